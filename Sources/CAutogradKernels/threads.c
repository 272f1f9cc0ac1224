// A small persistent thread pool for the large kernels, and per-thread scratch buffers.
//
// Design
// - Workers are created lazily, up to ag_num_threads() - 1 of them; the calling thread always takes part as
//   tid 0, so a 2-core machine needs one worker.
// - One parallel region at a time: the caller takes `pool_lock` with trylock. If another thread holds it (the
//   library runs derivative computations in parallel tasks, which may all call gemm at once), the caller runs
//   the task alone instead of waiting. Workers never start parallel regions themselves. So there is no lock
//   order to get wrong and no way to deadlock.
// - Each worker has its own mailbox (a sequence number `go` and a `done` counter): the caller posts the job to
//   exactly the workers it needs and waits for exactly those, so a worker can never run a stale or foreign job.
// - After a job a worker spins for a short while (about 50 us: the next matrix product usually follows within
//   microseconds), then sleeps on a condition variable. The caller only signals a worker that says it sleeps.
// - A forked child starts with an empty pool (the parent's workers do not exist there).
#include "internal.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#define CPU_RELAX() __builtin_ia32_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

enum { MAX_WORKERS = 63, SPIN_NANOSECONDS = 50000, SPIN_BEFORE_YIELD = 2000 };

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

typedef struct {
    _Alignas(64) atomic_uint go;       // incremented by the caller to post a job
    atomic_uint done;                  // set equal to `go` by the worker when the job is finished
    atomic_int sleeping;               // 1 while the worker waits (or is about to wait) on `cv`
    int tid;
    pthread_mutex_t m;
    pthread_cond_t cv;
    pthread_t thread;
} worker;

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;  // held by the caller for a whole region
static worker *workers[MAX_WORKERS];
static int worker_count;                                       // changed only under pool_lock

// The job of the current region; written before `go` is incremented (release), read after (acquire).
static ag_task_fn job_fn;
static void *job_ctx;
static int job_threads;

static void *worker_main(void *arg) {
    worker *w = (worker *)arg;
    unsigned seen = 0;
    for (;;) {
        unsigned go = atomic_load_explicit(&w->go, memory_order_acquire);
        int64_t spin_end = go == seen ? now_ns() + SPIN_NANOSECONDS : 0;
        for (int spin = 1; go == seen; spin++) {
            CPU_RELAX();
            go = atomic_load_explicit(&w->go, memory_order_acquire);
            if (spin % 64 == 0 && now_ns() > spin_end) break;
        }
        if (go == seen) {
            // Announce the sleep first (seq_cst), then re-check under the mutex: the poster increments `go`
            // (seq_cst) and then reads `sleeping`, so one of the two always sees the other.
            atomic_store(&w->sleeping, 1);
            pthread_mutex_lock(&w->m);
            while ((go = atomic_load(&w->go)) == seen) pthread_cond_wait(&w->cv, &w->m);
            pthread_mutex_unlock(&w->m);
            atomic_store(&w->sleeping, 0);
        }
        seen = go;
        job_fn(job_ctx, w->tid, job_threads);
        atomic_store_explicit(&w->done, go, memory_order_release);
    }
    return NULL;
}

// In a forked child only the forking thread exists: forget the workers (their memory is leaked, once).
static void forget_workers_in_child(void) {
    worker_count = 0;
    pthread_mutex_init(&pool_lock, NULL);
}
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static void install_atfork(void) { pthread_atfork(NULL, NULL, forget_workers_in_child); }

// Called with pool_lock held. Returns how many workers exist afterwards (may be fewer than asked on failure).
static int ensure_workers(int wanted) {
    if (wanted > MAX_WORKERS) wanted = MAX_WORKERS;
    pthread_once(&atfork_once, install_atfork);
    while (worker_count < wanted) {
        worker *w = NULL;
        if (posix_memalign((void **)&w, 64, sizeof(worker)) != 0) break;
        memset(w, 0, sizeof(*w));
        w->tid = worker_count + 1;
        pthread_mutex_init(&w->m, NULL);
        pthread_cond_init(&w->cv, NULL);
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int rc = pthread_create(&w->thread, &attr, worker_main, w);
        pthread_attr_destroy(&attr);
        if (rc != 0) {
            pthread_cond_destroy(&w->cv);
            pthread_mutex_destroy(&w->m);
            free(w);
            break;
        }
        workers[worker_count++] = w;
    }
    return worker_count;
}

void ag_parallel_run(ag_task_fn fn, void *ctx, int nthreads) {
    if (nthreads <= 1 || pthread_mutex_trylock(&pool_lock) != 0) {
        fn(ctx, 0, 1);
        return;
    }
    int available = ensure_workers(nthreads - 1) + 1;
    if (nthreads > available) nthreads = available;
    if (nthreads <= 1) {
        pthread_mutex_unlock(&pool_lock);
        fn(ctx, 0, 1);
        return;
    }
    job_fn = fn;
    job_ctx = ctx;
    job_threads = nthreads;
    unsigned ticket[MAX_WORKERS];
    for (int i = 0; i < nthreads - 1; i++) {
        worker *w = workers[i];
        ticket[i] = atomic_fetch_add(&w->go, 1) + 1;  // seq_cst: ordered before the read of `sleeping`
        if (atomic_load(&w->sleeping)) {
            pthread_mutex_lock(&w->m);
            pthread_cond_signal(&w->cv);
            pthread_mutex_unlock(&w->m);
        }
    }
    fn(ctx, 0, nthreads);
    for (int i = 0; i < nthreads - 1; i++) {
        worker *w = workers[i];
        for (int spin = 0; atomic_load_explicit(&w->done, memory_order_acquire) != ticket[i]; spin++) {
            if (spin < SPIN_BEFORE_YIELD) CPU_RELAX();
            else sched_yield();
        }
    }
    pthread_mutex_unlock(&pool_lock);
}

// ---------------------------------------------------------------------------------------------------------
// Per-thread scratch buffers (packing buffers of the matrix product). Kept between calls so that large
// products do not pay for fresh pages each time; freed by a thread-exit destructor.
// ---------------------------------------------------------------------------------------------------------

typedef struct {
    void *ptr[2];
    size_t size[2];
} scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static _Thread_local scratch *my_scratch;

static void scratch_free(void *p) {
    scratch *s = (scratch *)p;
    free(s->ptr[0]);
    free(s->ptr[1]);
    free(s);
}

static void scratch_init(void) { pthread_key_create(&scratch_key, scratch_free); }

void *ag_thread_scratch(int slot, size_t bytes) {
    scratch *s = my_scratch;
    if (!s) {
        pthread_once(&scratch_once, scratch_init);
        s = (scratch *)calloc(1, sizeof(scratch));
        if (!s) abort();
        pthread_setspecific(scratch_key, s);
        my_scratch = s;
    }
    if (s->size[slot] < bytes) {
        free(s->ptr[slot]);
        size_t rounded = (bytes + 4095) & ~(size_t)4095;
        void *p = NULL;
        if (posix_memalign(&p, 4096, rounded) != 0) abort();
        s->ptr[slot] = p;
        s->size[slot] = rounded;
    }
    return s->ptr[slot];
}
