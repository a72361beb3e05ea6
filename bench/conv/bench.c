/* Times the kernels of kernels.mlir on one core; prints the best time in ms and
 * GFLOP/s (pools: Gelem/s). Not a test: see run.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
void conv1(const float*, const float*, const float*, float*);
void conv2(const float*, const float*, const float*, float*);
void conv2_dw(const float*, const float*, float*);
void conv2_dx(const float*, const float*, float*);
void conv1_dw(const float*, const float*, float*);
void pool1(const float*, float*);
void rconv(const float *, const float *, const float *, float *);
void sconv(const float *, const float *, const float *, float *);
void sconv_dw(const float *, const float *, float *);
void sconv_dx(const float *, const float *, float *);
void rconv_dw(const float *, const float *, float *);
void rconv_dx(const float *, const float *, float *);
void pool1_dx(const float*, const float*, float*);
void wconv(const float *, const float *, const float *, float *);
void wconv_dw(const float *, const float *, float *);
void wconv_dx(const float *, const float *, float *);
/* Parallel loops (per-sample convolutions) run serially here: one core. */
void nnrt_parallel_for(long n, void (*fn)(void *, long), void *ctx) {
  for (long i = 0; i < n; ++i)
    fn(ctx, i);
}
static float*arr(long n){float*p=aligned_alloc(64,sizeof(float)*((n+15)/16*16));for(long i=0;i<n;++i)p[i]=(float)((i*7919)%1000)/1000.0f-0.5f;return p;}
/* The fastest of the calls in 0.3 s of thread CPU time: robust against
 * other processes sharing the machine (wall-clock medians are not). */
static double cpu(void){struct timespec t;clock_gettime(CLOCK_THREAD_CPUTIME_ID,&t);return t.tv_sec+1e-9*t.tv_nsec;}
#define B(name,fl,call) do{ call; double s=cpu(), best=1e9; while(cpu()-s<0.3){double t0=cpu(); call; double t=cpu()-t0; if(t<best)best=t;} printf("%-10s %8.3f ms  %7.1f GFLOP/s\n",name,best*1e3,(fl)/best/1e9);}while(0)
int main(){
 float*x1=arr(64*28*28),*w1=arr(32*9),*b1=arr(32),*y1=arr(64L*32*26*26);
 float*x2=arr(64*32*13*13),*w2=arr(64*32*9),*b2=arr(64),*y2=arr(64*64*11*11),*o=arr(64L*32*26*26);
 B("conv1",2.0*64*32*26*26*9,conv1(x1,w1,b1,y1));
 B("conv2",2.0*64*64*11*11*288,conv2(x2,w2,b2,y2));
 B("conv2_dw",2.0*64*64*11*11*288,conv2_dw(y2,x2,o));
 B("conv2_dx",2.0*64*64*11*11*288,conv2_dx(y2,w2,o));
 B("conv1_dw",2.0*64*32*26*26*9,conv1_dw(y1,x1,o));
 float *x3 = arr(64L * 32 * 28 * 28), *w3 = arr(32 * 32 * 9),
       *y3 = arr(64L * 32 * 28 * 28);
 B("rconv", 2.0 * 64 * 32 * 28 * 28 * 288, rconv(x3, w3, b1, y3));
 B("rconv_dw", 2.0 * 64 * 32 * 28 * 28 * 288, rconv_dw(y3, x3, w3));
 B("rconv_dx", 2.0 * 64 * 32 * 28 * 28 * 288, rconv_dx(y3, w3, x3));
 float *x4 = arr(64L * 32 * 14 * 14), *w4 = arr(64 * 32 * 9),
       *y4 = arr(64L * 64 * 14 * 14);
 B("sconv", 2.0 * 64 * 64 * 14 * 14 * 288, sconv(x4, w4, b2, y4));
 B("sconv_dw", 2.0 * 64 * 64 * 14 * 14 * 288, sconv_dw(y4, x4, w4));
 B("sconv_dx", 2.0 * 64 * 64 * 14 * 14 * 288, sconv_dx(y4, w4, x4));
 float *x5 = arr(64L * 128 * 13 * 13), *w5 = arr(256 * 128 * 9), *b5 = arr(256),
       *y5 = arr(64L * 256 * 11 * 11);
 B("wconv", 2.0 * 64 * 256 * 11 * 11 * 1152, wconv(x5, w5, b5, y5));
 B("wconv_dw", 2.0 * 64 * 256 * 11 * 11 * 1152, wconv_dw(y5, x5, w5));
 B("wconv_dx", 2.0 * 64 * 256 * 11 * 11 * 1152, wconv_dx(y5, w5, x5));
 B("pool1",1.0*64*32*26*26,pool1(y1,x2));
 B("pool1_dx",1.0*64*32*26*26,pool1_dx(x2,y1,o));
}
