// The N-API floor: the least any Node library built on node-addon-api can do
// to hand out a shared memory block as an ArrayBuffer. One native call maps
// the block and wraps it with Napi::ArrayBuffer::New(env, addr, length,
// finalizer) (napi_create_external_arraybuffer); close detaches the buffer,
// so no view reads unmapped memory, and munmaps. No validation, no names,
// no tracking: only the syscalls and the wrap.
//
// V8 charges such buffers to its external-memory budget; that charge is what
// bench/core/attach.bench.ts compares shmbridge's mappings against.

#include <napi.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <unordered_map>

namespace {

struct Mapping {
  void* addr;
  size_t length;
  bool mapped;
};

// Live mappings by address, so close() finds the one behind a buffer. The
// finalizer may run long after close() (Node defers it to the event loop);
// by then the entry is gone and `mapped` is false.
std::unordered_map<void*, Mapping*> live;

void Finalize(Napi::Env, void*, Mapping* m) {
  if (m->mapped) {
    munmap(m->addr, m->length);
    live.erase(m->addr);
  }
  delete m;
}

Napi::Value Wrap(Napi::Env env, int fd, size_t length, int flags) {
  void* addr = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED | flags, fd, 0);
  int err = errno;
  close(fd);
  if (addr == MAP_FAILED) return Napi::Number::New(env, -err);
  Mapping* m = new Mapping{addr, length, true};
  live[addr] = m;
  return Napi::ArrayBuffer::New(env, addr, length, Finalize, m);
}

// A tracker message, as shmbridge's tracker reads them: "R <inode> <hex name>\n"
// after a create, "U <hex name>\n" after an unlink (name without the slash).
void Tell(int trackFd, const std::string& path, const char* kind, unsigned long long ino) {
  if (trackFd < 0) return;
  static const char hex[] = "0123456789abcdef";
  std::string line(kind);
  if (line == "R") line += " " + std::to_string(ino);
  line += ' ';
  for (size_t i = 1; i < path.size(); i++) {
    line += hex[static_cast<unsigned char>(path[i]) >> 4];
    line += hex[static_cast<unsigned char>(path[i]) & 15];
  }
  line += '\n';
  if (write(trackFd, line.data(), line.size()) < 0) {}
}

// create(path, size, reserve, mmapFlags, trackFd) -> ArrayBuffer | -errno
// With trackFd >= 0, it also does what a tracked create does: fstat for the
// inode and one register line to the tracker.
Napi::Value Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  size_t size = static_cast<size_t>(info[1].As<Napi::Number>().Int64Value());
  bool reserve = info[2].As<Napi::Boolean>();
  int flags = info[3].As<Napi::Number>().Int32Value();
  int trackFd = info.Length() > 4 ? info[4].As<Napi::Number>().Int32Value() : -1;
  int fd = shm_open(path.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  if (fd < 0) return Napi::Number::New(env, -errno);
  int err = ftruncate(fd, static_cast<off_t>(size)) < 0 ? errno : 0;
  if (!err && trackFd >= 0) {
    struct stat st;
    if (fstat(fd, &st) < 0) err = errno;
    else Tell(trackFd, path, "R", static_cast<unsigned long long>(st.st_ino));
  }
  if (!err && reserve) err = posix_fallocate(fd, 0, static_cast<off_t>(size));
  if (err) {
    close(fd);
    shm_unlink(path.c_str());
    return Napi::Number::New(env, -err);
  }
  Napi::Value mapped = Wrap(env, fd, size, flags);
  if (mapped.IsNumber()) shm_unlink(path.c_str());  // mmap failed: leave nothing behind
  return mapped;
}

// attach(path) -> ArrayBuffer | -errno
Napi::Value Attach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  int fd = shm_open(path.c_str(), O_RDWR, 0);
  if (fd < 0) return Napi::Number::New(env, -errno);
  struct stat st;
  if (fstat(fd, &st) < 0) {
    int err = errno;
    close(fd);
    return Napi::Number::New(env, -err);
  }
  return Wrap(env, fd, static_cast<size_t>(st.st_size), 0);
}

// close(buffer) -> 0 | -errno: detach, then munmap. Idempotent.
Napi::Value Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::ArrayBuffer ab = info[0].As<Napi::ArrayBuffer>();
  auto it = live.find(ab.Data());
  if (it == live.end()) return Napi::Number::New(env, 0);
  Mapping* m = it->second;
  live.erase(it);
  m->mapped = false;
  ab.Detach();
  return Napi::Number::New(env, munmap(m->addr, m->length) < 0 ? -errno : 0);
}

// unlink(path, trackFd) -> 0 | -errno; with trackFd >= 0, one unregister line too
Napi::Value Unlink(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>();
  int trackFd = info.Length() > 1 ? info[1].As<Napi::Number>().Int32Value() : -1;
  int r = shm_unlink(path.c_str()) < 0 ? -errno : 0;
  Tell(trackFd, path, "U", 0);
  return Napi::Number::New(info.Env(), r);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports["create"] = Napi::Function::New(env, Create);
  exports["attach"] = Napi::Function::New(env, Attach);
  exports["close"] = Napi::Function::New(env, Close);
  exports["unlink"] = Napi::Function::New(env, Unlink);
  return exports;
}

}  // namespace

NODE_API_MODULE(napi_floor, Init)
