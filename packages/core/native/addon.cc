// The only C++ in @shmbridge/core: one function per syscall, no policy.
//
// Every function returns a plain value: a non-negative result, or -errno on
// failure. Names, flags, sizes, error messages and cleanup order are decided
// in TypeScript (src/shared-memory.ts); this file never throws for a failed
// syscall. Calls that can be interrupted retry on EINTR, like CPython's
// _posixshmem.c.

#include <napi.h>
#include <v8.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <limits.h>

#include <atomic>
#include <new>

namespace {

Napi::Number Int(Napi::Env env, double v) { return Napi::Number::New(env, v); }
Napi::Number Errno(Napi::Env env) { return Int(env, -errno); }

// A "/name" argument copied into a fixed buffer: no std::string, so nothing
// here allocates on the heap or can throw (a C++ exception must never reach
// V8; near the kernel's map limit, malloc is what fails first). TS has
// checked the name's length, so a truncated copy means a caller bug: the
// buffer is left empty and the syscall fails with ENOENT/EINVAL.
struct PathArg {
  char value[NAME_MAX + 3];  // "/", NAME_MAX bytes, NUL, and one to notice a longer string
  PathArg(const Napi::CallbackInfo& info, size_t i) {
    size_t n = 0;
    if (napi_get_value_string_utf8(info.Env(), info[i], value, sizeof value, &n) != napi_ok || n + 1 >= sizeof value) value[0] = '\0';
  }
};

// shm_open(path, flags, mode) -> fd | -errno
Napi::Value Open(const Napi::CallbackInfo& info) {
  PathArg path(info, 0);
  int flags = info[1].As<Napi::Number>().Int32Value();
  mode_t mode = info[2].As<Napi::Number>().Uint32Value();
  int fd;
  do {
    fd = shm_open(path.value, flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd < 0 ? Errno(info.Env()) : Int(info.Env(), fd);
}

// shm_unlink(path) -> 0 | -errno
Napi::Value Unlink(const Napi::CallbackInfo& info) {
  PathArg path(info, 0);
  int r;
  do {
    r = shm_unlink(path.value);
  } while (r < 0 && errno == EINTR);
  return r < 0 ? Errno(info.Env()) : Int(info.Env(), 0);
}

// ftruncate(fd, size) -> 0 | -errno
Napi::Value Truncate(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  off_t size = info[1].As<Napi::Number>().Int64Value();
  int r;
  do {
    r = ftruncate(fd, size);
  } while (r < 0 && errno == EINTR);
  return r < 0 ? Errno(info.Env()) : Int(info.Env(), 0);
}

// posix_fallocate(fd, 0, size) -> 0 | -errno. Allocates the pages now, so a
// full tmpfs reports ENOSPC here rather than SIGBUS on first write.
Napi::Value Reserve(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  off_t size = info[1].As<Napi::Number>().Int64Value();
#ifdef __APPLE__
  (void)fd;
  (void)size;
  return Int(info.Env(), -ENOTSUP);  // no posix_fallocate; TS skips reserving
#else
  int r;
  do {
    r = posix_fallocate(fd, 0, size);  // returns the error, errno untouched
  } while (r == EINTR);
  return Int(info.Env(), -r);
#endif
}

// fstat(fd) -> [size, mode, uid, mtimeMs, ino] | -errno
Napi::Value Stat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct stat st;
  if (fstat(fd, &st) < 0) return Errno(env);
  Napi::Array out = Napi::Array::New(env, 5);
  out[0u] = Int(env, static_cast<double>(st.st_size));
  out[1u] = Int(env, st.st_mode);
  out[2u] = Int(env, st.st_uid);
#ifdef __APPLE__
  out[3u] = Int(env, st.st_mtimespec.tv_sec * 1e3 + st.st_mtimespec.tv_nsec / 1e6);
#else
  out[3u] = Int(env, st.st_mtim.tv_sec * 1e3 + st.st_mtim.tv_nsec / 1e6);
#endif
  out[4u] = Int(env, static_cast<double>(st.st_ino));
  return out;
}

// close(fd) -> 0 | -errno. Not retried on EINTR: on Linux the fd is gone.
Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  return close(fd) < 0 ? Errno(info.Env()) : Int(info.Env(), 0);
}

// pipe2(O_CLOEXEC) -> [readFd, writeFd] | -errno. Blocking on purpose: the
// tracker protocol writes one short line synchronously (see src/tracker.ts).
Napi::Value Pipe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fds[2];
#ifdef __linux__
  if (pipe2(fds, O_CLOEXEC) < 0) return Errno(env);
#else
  if (pipe(fds) < 0) return Errno(env);
  fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  fcntl(fds[1], F_SETFD, FD_CLOEXEC);
#endif
  Napi::Array out = Napi::Array::New(env, 2);
  out[0u] = Int(env, fds[0]);
  out[1u] = Int(env, fds[1]);
  return out;
}

// The tracker's pipe is per process, not per isolate: worker threads share
// one tracker so a block created in one thread and unlinked in another is
// unregistered where it was registered. trackerFd(fd, expected = -1) sets it
// only if it still is `expected` (compare-and-swap), so of two threads that
// start a tracker at once, or replace a dead one, the first wins.
std::atomic<int> tracker_fd{-1};

Napi::Value TrackerFd(const Napi::CallbackInfo& info) {
  if (info.Length() > 0) {
    int expected = info.Length() > 1 ? info[1].As<Napi::Number>().Int32Value() : -1;
    int fd = info[0].As<Napi::Number>().Int32Value();
    tracker_fd.compare_exchange_strong(expected, fd);
  }
  return Int(info.Env(), tracker_fd.load());
}

// --- mappings ---------------------------------------------------------------
//
// A mapping is wrapped in an ArrayBuffer whose backing store has V8's
// EmptyDeleter. That is the one use of the V8 API in this addon, and the
// reason is cost: V8 charges every other external backing store to its
// external-memory budget, and from 64 MiB on each new wrap forces a full GC
// (napi_create_external_arraybuffer, measured at 360-520 us per attach of a
// 64 MiB-1 GiB block, against ~60-110 us here). V8 does not count
// empty-deleter stores (BackingStore::PerIsolateAccountingLength), so a 1 GiB
// block costs what a 4 KiB one does.
//
// Closing never frees the address range, and never detaches the buffer.
// Node's thread pool (zlib, crypto, fs, sockets, other addons) may still hold
// a raw pointer into the block when JS calls close(): munmap would make that
// job fault (SIGSEGV), and worse, the next mmap would likely get the same
// addresses and the job would write into an unrelated block. Detaching is no
// answer either: zlib re-checks its input's length between chunks and aborts
// the process (node_zlib.cc: "Assertion failed: Buffer::IsWithinBounds") when
// the buffer was detached under it. So Unmap puts private anonymous memory
// where the block was (mmap MAP_FIXED, atomic for any concurrent access): the
// block's pages are released at once, and every view and pending job from
// then on reads zeros and writes into memory nobody sees. The range itself is
// released by the finalizer, when V8 collects the ArrayBuffer object: Node's
// async operations keep the JS buffer they use reachable until they complete
// (that is how they keep ordinary Buffers alive), so by then none is left.

struct Mapping {
  void* addr;
  size_t length;
  bool shared;  // false once Unmap has put the placeholder in
  // Owners of the address range: the JS buffer (1), plus each thread-pool
  // job working on it (PopulateAsync). Whoever drops the last releases the
  // range, so a job never touches memory the finalizer has unmapped.
  std::atomic<int> owners{1};
};

void ReleaseRange(Mapping* m) {
  if (m->owners.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  munmap(m->addr, m->length);
  delete m;
}

// What this isolate has mapped: bytes of blocks still mapped, and address
// ranges held (blocks plus placeholders), each one kernel mapping (VMA).
// V8 is not told about them (see above), so src/gc-pressure.ts reads these to
// decide when to ask for a collection of mappings dropped without close(),
// and to refuse a mapping before the process reaches vm.max_map_count.
struct InstanceData {
  int64_t mapped = 0;
  int64_t ranges = 0;
};

InstanceData* Instance(napi_env env) {
  void* data = nullptr;
  napi_get_instance_data(env, &data);
  return static_cast<InstanceData*>(data);
}

void FinalizeMapping(napi_env env, void* data, void*) {
  // The ArrayBuffer was collected, so no view of it and no pending job
  // using it is left: releasing the range is safe.
  Mapping* m = static_cast<Mapping*>(data);
  if (InstanceData* d = Instance(env)) {
    if (m->shared) d->mapped -= static_cast<int64_t>(m->length);
    d->ranges -= 1;
  }
  ReleaseRange(m);  // a PopulateAsync still running releases it when done
}

napi_value ToNapi(v8::Local<v8::Value> value) {
  // Node-API's own conversion (v8impl::JsValueFromV8LocalValue).
  return reinterpret_cast<napi_value>(*value);
}

v8::Local<v8::Value> ToV8(napi_value value) {
  v8::Local<v8::Value> local;
  static_assert(sizeof(local) == sizeof(value), "napi_value is a v8::Local");
  memcpy(static_cast<void*>(&local), &value, sizeof(value));
  return local;
}

// mmap(NULL, length, PROT_READ|PROT_WRITE, MAP_SHARED|extraFlags, fd, 0)
//   -> ArrayBuffer | -errno
// The buffer gets a detach key (info[3]) that only TS holds, so nothing can
// detach it: a postMessage transfer or ArrayBuffer#transfer would move the
// memory out from under the finalizer.
Napi::Value Map(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  size_t length = static_cast<size_t>(info[1].As<Napi::Number>().Int64Value());
  int extra = info[2].As<Napi::Number>().Int32Value();
  Mapping* m = new (std::nothrow) Mapping{nullptr, length, true};
  if (m == nullptr) return Int(env, -ENOMEM);
  void* addr = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED | extra, fd, 0);
  if (addr == MAP_FAILED) {
    int err = errno;
    delete m;
    return Int(env, -err);
  }
  m->addr = addr;

  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  std::unique_ptr<v8::BackingStore> store = v8::ArrayBuffer::NewBackingStore(
      addr, length, v8::BackingStore::EmptyDeleter, nullptr);
  v8::Local<v8::ArrayBuffer> ab = v8::ArrayBuffer::New(isolate, std::move(store));
  ab->SetDetachKey(ToV8(info[3]));

  napi_value result = ToNapi(ab);
  if (napi_wrap(env, result, m, FinalizeMapping, nullptr, nullptr) != napi_ok) {
    munmap(addr, length);
    delete m;
    return Int(env, -ENOMEM);
  }
  InstanceData* d = Instance(env);
  d->mapped += static_cast<int64_t>(length);
  d->ranges += 1;
  return Napi::Value(env, result);
}

// unmap(buffer, exposed, detachKey): put private anonymous memory where the
// block was (see above); views keep their length and read zeros from then on.
// A buffer that was never `exposed` (TS handed out no view of it, so no JS
// code and no pending job can be using it) is detached and unmapped at once
// instead: no placeholder, no finalizer. -> 0 | -errno. Calling it twice is
// harmless: the second finds the placeholder, or no mapping.
Napi::Value Unmap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  void* data = nullptr;
  if (napi_unwrap(env, info[0], &data) != napi_ok || data == nullptr) return Int(env, 0);
  Mapping* m = static_cast<Mapping*>(data);
  if (!m->shared) return Int(env, 0);
  if (!info[1].ToBoolean().Value() && m->owners.load(std::memory_order_acquire) == 1 &&
      ToV8(info[0]).As<v8::ArrayBuffer>()->Detach(ToV8(info[2])).IsJust() &&
      napi_remove_wrap(env, info[0], nullptr) == napi_ok) {
    int r = munmap(m->addr, m->length);
    int err = errno;
    InstanceData* d = Instance(env);
    d->mapped -= static_cast<int64_t>(m->length);
    d->ranges -= 1;
    delete m;
    return Int(env, r < 0 ? -err : 0);
  }
  void* r = mmap(m->addr, m->length, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
  // If even that fails (it replaces one mapping by one, so it should not),
  // the block stays mapped until the finalizer: a leak, never a fault.
  if (r == MAP_FAILED) return Int(env, -errno);
  m->shared = false;
  Instance(env)->mapped -= static_cast<int64_t>(m->length);
  return Int(env, 0);
}

// --- the same syscalls on the thread pool -----------------------------------
//
// For SharedMemory.createAsync: the two steps of a create that take time in
// proportion to its size (allocating the pages, mapping them in) run on
// libuv's thread pool, so the event loop keeps running. Each returns a
// Promise of 0 | -errno, like its synchronous sibling returns a number; what
// to do with the result is decided in TypeScript.

struct Job {
  napi_async_work work = nullptr;
  napi_deferred deferred = nullptr;
  int (*run)(Job*) = nullptr;
  int fd = -1;
  off_t size = 0;
  Mapping* mapping = nullptr;  // one of its owners while the job runs
  bool touch = false;
  int result = 0;
};

void ExecuteJob(napi_env, void* data) {
  Job* job = static_cast<Job*>(data);
  job->result = job->run(job);
  if (job->mapping != nullptr) {
    ReleaseRange(job->mapping);
    job->mapping = nullptr;
  }
}

void CompleteJob(napi_env env, napi_status status, void* data) {
  Job* job = static_cast<Job*>(data);
  if (job->mapping != nullptr) ReleaseRange(job->mapping);  // cancelled before it ran
  napi_value value;
  napi_create_int32(env, status == napi_cancelled ? -ECANCELED : job->result, &value);
  napi_resolve_deferred(env, job->deferred, value);
  napi_delete_async_work(env, job->work);
  delete job;
}

// Queues `job` and returns its promise; -ENOMEM (a number, not a promise)
// if Node-API cannot.
napi_value QueueJob(napi_env env, Job* job, const char* name) {
  napi_value promise, resource_name;
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok) {
    if (job->mapping != nullptr) ReleaseRange(job->mapping);
    delete job;
    return Int(env, -ENOMEM);
  }
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name);
  if (napi_create_async_work(env, nullptr, resource_name, ExecuteJob, CompleteJob, job, &job->work) != napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    if (job->work != nullptr) napi_delete_async_work(env, job->work);
    if (job->mapping != nullptr) ReleaseRange(job->mapping);
    napi_value err;
    napi_create_int32(env, -ENOMEM, &err);
    napi_resolve_deferred(env, job->deferred, err);
    delete job;
  }
  return promise;
}

int RunReserve(Job* job) {
#ifdef __APPLE__
  return -ENOTSUP;
#else
  int r;
  do {
    r = posix_fallocate(job->fd, 0, job->size);
  } while (r == EINTR);
  return -r;
#endif
}

// reserveAsync(fd, size) -> Promise<0 | -errno>: posix_fallocate(fd, 0, size)
// on the thread pool. The fd must stay open until the promise settles.
Napi::Value ReserveAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Job* job = new (std::nothrow) Job();
  if (job == nullptr) return Int(env, -ENOMEM);
  job->run = RunReserve;
  job->fd = info[0].As<Napi::Number>().Int32Value();
  job->size = info[1].As<Napi::Number>().Int64Value();
  return Napi::Value(env, QueueJob(env, job, "shmbridge:reserve"));
}

#if defined(__linux__) && !defined(MADV_POPULATE_WRITE)
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older kernels answer EINVAL
#endif

int RunPopulate(Job* job) {
  Mapping* m = job->mapping;
  if (job->touch) {
    // Kernels before 5.14: fault each page in writable by hand. An atomic
    // add of 0 changes no byte, even if another process writes meanwhile.
    long page = sysconf(_SC_PAGESIZE);
    auto* p = static_cast<unsigned char*>(m->addr);
    for (size_t at = 0; at < m->length; at += static_cast<size_t>(page)) __atomic_fetch_add(p + at, 0, __ATOMIC_RELAXED);
    return 0;
  }
#ifdef MADV_POPULATE_WRITE
  // In chunks: each call holds this process's mmap lock (read) while it
  // faults its chunk in, and the event loop's thread needs that lock too
  // to map memory (every large allocation; page faults then queue behind it).
  // With one call over 1 GiB an 8 MiB ArrayBuffer allocated on the loop
  // waited up to ~340 ms here; a 1 MiB chunk is faulted in well under 1 ms
  // (bench/core/create-async.bench.ts).
  const size_t chunk = 1 << 20;
  auto* p = static_cast<char*>(m->addr);
  for (size_t at = 0; at < m->length; at += chunk) {
    size_t n = m->length - at < chunk ? m->length - at : chunk;
    int r;
    do {
      r = madvise(p + at, n, MADV_POPULATE_WRITE);
    } while (r < 0 && errno == EINTR);
    if (r < 0) return -errno;
  }
  return 0;
#else
  return -ENOTSUP;
#endif
}

// populateAsync(buffer, touch) -> Promise<0 | -errno>: maps the pages of a
// mapping in, writable, on the thread pool: madvise(MADV_POPULATE_WRITE), or
// with `touch` one atomic no-op write per page (for kernels that answer
// EINVAL). The job owns the range while it runs (see Mapping::owners), so
// neither close() nor the GC can pull the memory out from under it.
Napi::Value PopulateAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  void* data = nullptr;
  if (napi_unwrap(env, info[0], &data) != napi_ok || data == nullptr) return Int(env, -EINVAL);
  Job* job = new (std::nothrow) Job();
  if (job == nullptr) return Int(env, -ENOMEM);
  job->run = RunPopulate;
  job->mapping = static_cast<Mapping*>(data);
  job->mapping->owners.fetch_add(1, std::memory_order_relaxed);
  job->touch = info[1].ToBoolean().Value();
  return Napi::Value(env, QueueJob(env, job, "shmbridge:populate"));
}

// -> bytes of blocks mapped by this isolate and not yet closed
Napi::Value MappedBytes(const Napi::CallbackInfo& info) {
  return Int(info.Env(), static_cast<double>(Instance(info.Env())->mapped));
}

// -> address ranges this isolate holds (blocks, and placeholders of closed ones)
Napi::Value MappedRanges(const Napi::CallbackInfo& info) {
  return Int(info.Env(), static_cast<double>(Instance(info.Env())->ranges));
}

// Reports `bytes` of external memory to V8 and withdraws it at once: V8 sees
// the pressure (and schedules or runs a GC) without keeping the charge.
Napi::Value RequestGc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t bytes = info[0].As<Napi::Number>().Int64Value();
  int64_t ignored;
  napi_adjust_external_memory(env, bytes, &ignored);
  napi_adjust_external_memory(env, -bytes, &ignored);
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  napi_set_instance_data(
      env, new InstanceData(), [](napi_env, void* data, void*) { delete static_cast<InstanceData*>(data); }, nullptr);
  exports["open"] = Napi::Function::New(env, Open);
  exports["unlink"] = Napi::Function::New(env, Unlink);
  exports["truncate"] = Napi::Function::New(env, Truncate);
  exports["reserve"] = Napi::Function::New(env, Reserve);
  exports["reserveAsync"] = Napi::Function::New(env, ReserveAsync);
  exports["populateAsync"] = Napi::Function::New(env, PopulateAsync);
  exports["stat"] = Napi::Function::New(env, Stat);
  exports["close"] = Napi::Function::New(env, Close);
  exports["pipe"] = Napi::Function::New(env, Pipe);
  exports["trackerFd"] = Napi::Function::New(env, TrackerFd);
  exports["map"] = Napi::Function::New(env, Map);
  exports["unmap"] = Napi::Function::New(env, Unmap);
  exports["mappedBytes"] = Napi::Function::New(env, MappedBytes);
  exports["mappedRanges"] = Napi::Function::New(env, MappedRanges);
  exports["requestGc"] = Napi::Function::New(env, RequestGc);
  Napi::Object c = Napi::Object::New(env);
  c["O_RDONLY"] = Int(env, O_RDONLY);
  c["O_RDWR"] = Int(env, O_RDWR);
  c["O_CREAT"] = Int(env, O_CREAT);
  c["O_EXCL"] = Int(env, O_EXCL);
#ifdef MAP_POPULATE
  c["MAP_POPULATE"] = Int(env, MAP_POPULATE);
#else
  c["MAP_POPULATE"] = Int(env, 0);
#endif
  c["NAME_MAX"] = Int(env, NAME_MAX);
  exports["constants"] = c;
  return exports;
}

}  // namespace

NODE_API_MODULE(shmbridge, Init)
