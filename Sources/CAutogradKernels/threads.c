// A small persistent thread pool for the large kernels, and per-thread scratch buffers.
//
// Design
// - A parallel region is a number of parts, fn(ctx, part, nparts), run by the caller and up to nparts - 1
//   workers. Each part is claimed (an atomic flag) by whichever thread gets there first. The caller first
//   claims part 0 and worker i part i + 1, so in the normal case every thread runs the same part each time (its
//   data stays in that core's cache from one call to the next); then each claims whatever is left. Workers are
//   created lazily, up to ag_num_threads() - 1 of them (a 2-core machine needs one).
// - A worker that has not started when the caller runs out of parts is retracted rather than waited for: on a
//   busy machine (or with more threads than free cores) a descheduled worker then costs nothing, and the
//   region takes at most as long as on one thread. Each worker has a mailbox with a state:
//     IDLE --caller posts--> POSTED --worker claims--> RUNNING --worker--> IDLE
//                              \--caller retracts (worker did not start)--> IDLE
//   Both transitions out of POSTED are compare-and-swaps, so exactly one side wins. The caller returns only
//   when each posted worker is retracted or finished; the job description is never read after that.
// - One parallel region at a time: the caller takes `pool_lock` with trylock. If another thread holds it (the
//   library runs derivative computations in parallel tasks, which may all call gemm at once), the caller runs
//   all parts itself instead of waiting. Workers never start parallel regions. So there is no lock order to get
//   wrong and no way to deadlock.
// - An idle worker spins for about 50 us (the next matrix product usually follows within microseconds), then
//   sleeps on a condition variable; the caller signals only workers that say they sleep.
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
enum { IDLE = 0, POSTED = 1, RUNNING = 2 };

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

typedef struct {
    _Alignas(64) atomic_int state;  // IDLE, POSTED or RUNNING (see above)
    atomic_int sleeping;            // 1 while the worker waits (or is about to wait) on `cv`
    int index;                      // 0 ..< worker_count
    pthread_mutex_t m;
    pthread_cond_t cv;
    pthread_t thread;
} worker;

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;  // held by the caller for a whole region
static worker *workers[MAX_WORKERS];
static int worker_count;                                       // changed only under pool_lock

// The current region; written before workers are posted, read by a worker only after it claimed the post.
static ag_task_fn job_fn;
static void *job_ctx;
static int job_parts;
static atomic_char job_claimed[MAX_WORKERS + 1];  // part p is taken

/// Runs part `first` if still free, then any part left.
static void run_parts(int first) {
    for (int i = 0; i < job_parts; i++) {
        int part = (first + i) % job_parts;
        if (!atomic_load_explicit(&job_claimed[part], memory_order_relaxed) &&
            !atomic_exchange(&job_claimed[part], 1))
            job_fn(job_ctx, part, job_parts);
    }
}

/// Returns when the worker's mailbox holds a post: spins about 50 us, then sleeps until signaled, and after any
/// wake-up spins again. (A worker that went back to sleep right after a late wake-up, because the post had
/// been retracted meanwhile, would be late for every following post as well.)
static void wait_for_post(worker *w) {
    for (;;) {
        int64_t spin_end = now_ns() + SPIN_NANOSECONDS;
        for (int spin = 1;; spin++) {
            if (atomic_load_explicit(&w->state, memory_order_acquire) == POSTED) return;
            CPU_RELAX();
            if (spin % 64 == 0 && now_ns() > spin_end) break;
        }
        // Announce the sleep first (seq_cst), then check under the mutex: the poster sets POSTED (seq_cst) and
        // then reads `sleeping`, so one of the two always sees the other and no signal is lost.
        atomic_store(&w->sleeping, 1);
        pthread_mutex_lock(&w->m);
        if (atomic_load(&w->state) != POSTED) pthread_cond_wait(&w->cv, &w->m);
        pthread_mutex_unlock(&w->m);
        atomic_store(&w->sleeping, 0);
    }
}

static void *worker_main(void *arg) {
    worker *w = (worker *)arg;
    for (;;) {
        wait_for_post(w);
        int expected = POSTED;
        if (!atomic_compare_exchange_strong(&w->state, &expected, RUNNING)) continue;  // retracted
        run_parts(w->index + 1);
        atomic_store_explicit(&w->state, IDLE, memory_order_release);
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
        w->index = worker_count;
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

void ag_parallel_run(ag_task_fn fn, void *ctx, int nparts) {
    if (nparts > MAX_WORKERS + 1) nparts = MAX_WORKERS + 1;
    if (nparts <= 1 || pthread_mutex_trylock(&pool_lock) != 0) {
        fn(ctx, 0, 1);  // one part covering everything
        return;
    }
    int helpers = ensure_workers(nparts - 1);
    if (helpers > nparts - 1) helpers = nparts - 1;
    job_fn = fn;
    job_ctx = ctx;
    job_parts = nparts;
    for (int p = 0; p < nparts; p++) atomic_store_explicit(&job_claimed[p], 0, memory_order_relaxed);
    for (int i = 0; i < helpers; i++) {
        worker *w = workers[i];
        atomic_store(&w->state, POSTED);  // seq_cst: ordered before the read of `sleeping`
        if (atomic_load(&w->sleeping)) {
            pthread_mutex_lock(&w->m);
            pthread_cond_signal(&w->cv);
            pthread_mutex_unlock(&w->m);
        }
    }
    run_parts(0);
    for (int i = 0; i < helpers; i++) {
        worker *w = workers[i];
        int expected = POSTED;
        if (atomic_compare_exchange_strong(&w->state, &expected, IDLE)) continue;  // never started: retracted
        for (int spin = 0; atomic_load_explicit(&w->state, memory_order_acquire) != IDLE; spin++) {
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

int ag_elementwise_parts(int64_t n, int64_t max_parts) {
    if (n < AG_PARALLEL_MIN_ELEMENTS) return 1;
    int64_t parts = ag_num_threads();
    if (parts > max_parts) parts = max_parts;
    return parts < 1 ? 1 : (int)parts;
}

// ---------------------------------------------------------------------------------------------------------
// Per-thread pointer slots for the Swift side (see ag_thread_pointer in ag_kernels.h).

// Read once or more per operation: the initial-exec model makes each access one instruction relative to the thread
// pointer instead of a call to __tls_get_addr (the code is linked into the program, not loaded later with dlopen).
#define AG_FAST_TLS __attribute__((tls_model("initial-exec")))
static _Thread_local AG_FAST_TLS void *thread_pointers[AG_THREAD_POINTER_SLOTS];
void *ag_thread_pointer(int slot) { return thread_pointers[slot]; }
void ag_set_thread_pointer(int slot, void *value) { thread_pointers[slot] = value; }
