/* One entry point per `mbn` subcommand (apps/cmd_*.c). Each returns the process exit status. */
#ifndef MBN_APPS_COMMANDS_H
#define MBN_APPS_COMMANDS_H

int cmd_devices(int argc, char **argv);
int cmd_summary(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_infer(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_plot(int argc, char **argv);

#endif
