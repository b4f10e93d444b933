/* Classifies image files with a trained mbn model through the installed library.
 *
 *   cc classify.c $(pkg-config --cflags --libs mbn) -o classify
 *   ./classify runs/fmnist/mobilenetv1-5_937.ckpt shoe.png shirt.jpg
 *
 * (add the install prefix's lib/ to LD_LIBRARY_PATH when it is not a system folder). Prints,
 * per image, the top classes with their probabilities; exit status 1 on any failure. */
#include <mbn.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL IMAGE...   (env MBN_DEVICE picks the device)\n", argv[0]);
        return 2;
    }
    MbnModel *model = NULL;
    if (mbn_model_open(argv[1], NULL, &model) != MBN_STATUS_OK) {
        fprintf(stderr, "classify: %s\n", mbn_last_error());
        return 1;
    }
    fprintf(stderr, "classify: mbn %s, %d classes, preprocessing: %s\n", mbn_version(),
            mbn_model_num_classes(model), mbn_model_preprocessing(model));
    int top_k = mbn_model_num_classes(model) < 3 ? mbn_model_num_classes(model) : 3;
    int status = 0;
    for (int i = 2; i < argc; i++) {
        int classes[3];
        float probs[3];
        if (mbn_model_classify_file(model, argv[i], top_k, classes, probs) != MBN_STATUS_OK) {
            fprintf(stderr, "classify: %s\n", mbn_last_error());
            status = 1;
            continue;
        }
        printf("%s:", argv[i]);
        for (int t = 0; t < top_k; t++) {
            const char *label = mbn_model_label(model, classes[t]);
            printf("  %d %s %.4f", classes[t], label ? label : "-", probs[t]);
        }
        printf("\n");
    }
    mbn_model_close(model);
    return status;
}
