# Small shapes per op for bench/op_bench (--shape syntax, see bench/op_bench.c), sourced by
# tests/cli_op_bench.sh (every row on PoCL) and ci/oclgrind.sh (every row under the simulator).
# Small enough to simulate, they take each row's fast path and its fallback, and cover the edges
# where kernels go wrong: partial tiles in both directions, depthwise halos and edge columns,
# channel counts that are not multiples of 32/16/8 (24 and 20: the cpu kernels' half-width
# forms at vector widths 16 and 8), the cpu GEMM's one-row last tile (M = 1; 15 = 2 x 7 + 1 and
# 64 = 9 x 7 + 1 for a 7-row tile, 13 = 2 x 6 + 1 for a 6-row one) and column panels with an
# edge (N = 72, 40, 13), stride 1 and 2, several statistics chunks with an uneven last one, the
# fused depthwise + pointwise kernel on both of its paths (>= MIN_PIXELS pixels with a partial
# row tile; rows a multiple of the tile) and its fallback.
declare -A MBN_OP_SHAPES=(
    [dw_fwd]="2,9,13,32,1 1,8,7,48,2 1,5,6,24,2 1,4,5,20,1"
    [dw_bwd_input]="2,9,13,32,1 1,8,7,48,2 1,5,6,24,2 1,4,5,20,1"
    [dw_bwd_weight]="2,9,13,32,1 1,8,7,48,2 1,5,6,24,2 1,4,5,20,1"
    [bn_fwd]="300,48 77,24 9,20 5,13"
    [bn_bwd]="300,48 77,24 9,20 5,13"
    [gemm]="1,40,72 15,24,40 13,20,13"
    [gemm_wgrad]="64,24,40 13,20,13"
    [stem_fwd]="1,9,11,48,2 1,7,8,16,1 1,9,8,24,1"
    [dwpw_fwd]="1,28,29,16,1,32 1,8,14,32,2,64 1,5,6,24,1,40"
)
MBN_OPS="gemm gemm_wgrad dw_fwd dw_bwd_input dw_bwd_weight bn_fwd bn_bwd stem_fwd dwpw_fwd"
