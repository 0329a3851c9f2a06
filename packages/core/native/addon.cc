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
#include <string>

namespace {

Napi::Number Int(Napi::Env env, double v) { return Napi::Number::New(env, v); }
Napi::Number Errno(Napi::Env env) { return Int(env, -errno); }

// shm_open(path, flags, mode) -> fd | -errno
Napi::Value Open(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>();
  int flags = info[1].As<Napi::Number>().Int32Value();
  mode_t mode = info[2].As<Napi::Number>().Uint32Value();
  int fd;
  do {
    fd = shm_open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd < 0 ? Errno(info.Env()) : Int(info.Env(), fd);
}

// shm_unlink(path) -> 0 | -errno
Napi::Value Unlink(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>();
  int r;
  do {
    r = shm_unlink(path.c_str());
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
// unregistered where it was registered. First writer wins.
std::atomic<int> tracker_fd{-1};

Napi::Value TrackerFd(const Napi::CallbackInfo& info) {
  if (info.Length() > 0) {
    int expected = -1;
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
// block costs what a 4 KiB one does. The unmapping that a deleter would do is
// done by Unmap (explicit close) or by the finalizer below (GC).

struct Mapping {
  void* addr;
  size_t length;
};

// Bytes mapped by this isolate and not yet unmapped. V8 is not told about
// them (see above), so src/gc-pressure.ts reads this to decide when to ask
// for a collection of mappings that were dropped without close().
struct InstanceData {
  int64_t mapped = 0;
};

InstanceData* Instance(napi_env env) {
  void* data = nullptr;
  napi_get_instance_data(env, &data);
  return static_cast<InstanceData*>(data);
}

void Release(napi_env env, Mapping* m) {
  if (InstanceData* d = Instance(env)) d->mapped -= static_cast<int64_t>(m->length);
  delete m;
}

void FinalizeMapping(napi_env env, void* data, void*) {
  // The ArrayBuffer was collected, so no view of it is left: unmapping is safe.
  Mapping* m = static_cast<Mapping*>(data);
  munmap(m->addr, m->length);
  Release(env, m);
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
// The buffer has a detach key (info[3]) so only Unmap can detach it: a
// postMessage transfer or ArrayBuffer#transfer would move the memory out
// from under the finalizer.
Napi::Value Map(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  size_t length = static_cast<size_t>(info[1].As<Napi::Number>().Int64Value());
  int extra = info[2].As<Napi::Number>().Int32Value();
  void* addr = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED | extra, fd, 0);
  if (addr == MAP_FAILED) return Errno(env);

  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  std::unique_ptr<v8::BackingStore> store = v8::ArrayBuffer::NewBackingStore(
      addr, length, v8::BackingStore::EmptyDeleter, nullptr);
  v8::Local<v8::ArrayBuffer> ab = v8::ArrayBuffer::New(isolate, std::move(store));
  ab->SetDetachKey(ToV8(info[3]));

  napi_value result = ToNapi(ab);
  Mapping* m = new Mapping{addr, length};
  if (napi_wrap(env, result, m, FinalizeMapping, nullptr, nullptr) != napi_ok) {
    munmap(addr, length);
    delete m;
    return Int(env, -ENOMEM);
  }
  Instance(env)->mapped += static_cast<int64_t>(length);
  return Napi::Value(env, result);
}

// Detach the buffer (every view of it drops to length 0), then munmap.
// -> 0 | -errno. Calling it twice is harmless: the second finds no mapping.
Napi::Value Unmap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  napi_value ab = info[0];
  void* data = nullptr;
  if (napi_remove_wrap(env, ab, &data) != napi_ok || data == nullptr) return Int(env, 0);
  Mapping* m = static_cast<Mapping*>(data);
  v8::Local<v8::ArrayBuffer> buffer = ToV8(ab).As<v8::ArrayBuffer>();
  if (buffer->Detach(ToV8(info[1])).IsNothing()) {
    // Wrong key: put the finalizer back and report, never unmap a live view.
    napi_wrap(env, ab, m, FinalizeMapping, nullptr, nullptr);
    return Int(env, -EPERM);
  }
  int r = munmap(m->addr, m->length);
  int err = errno;
  Release(env, m);
  return Int(env, r < 0 ? -err : 0);
}

// -> bytes currently mapped by this isolate
Napi::Value MappedBytes(const Napi::CallbackInfo& info) {
  return Int(info.Env(), static_cast<double>(Instance(info.Env())->mapped));
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
  exports["stat"] = Napi::Function::New(env, Stat);
  exports["close"] = Napi::Function::New(env, Close);
  exports["pipe"] = Napi::Function::New(env, Pipe);
  exports["trackerFd"] = Napi::Function::New(env, TrackerFd);
  exports["map"] = Napi::Function::New(env, Map);
  exports["unmap"] = Napi::Function::New(env, Unmap);
  exports["mappedBytes"] = Napi::Function::New(env, MappedBytes);
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
