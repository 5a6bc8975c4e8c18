// Shared helpers of the fuzz targets: repository paths, an in-memory file for
// loaders that take a path, and a fatal check that libFuzzer reports as a crash.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

// The entry point: libFuzzer's, or a name of its own when tests/hardening
// compiles the target into its regression test (one binary, several targets).
#ifndef ZICHT_FUZZ_ENTRY
#define ZICHT_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

namespace zicht::fuzz {

inline std::string SourcePath(std::string_view relative) {
  return std::string(ZICHT_SOURCE_DIR) + "/" + std::string(relative);
}

// An invariant the code under test promises; a violation is a finding, so it
// aborts (libFuzzer saves the input as a crash).
#define ZICHT_FUZZ_CHECK(cond, what)                                           \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "fuzz invariant violated: %s (%s)\n", what, #cond); \
      std::abort();                                                            \
    }                                                                          \
  } while (0)

// A memfd reachable as /proc/self/fd/N, rewritten per input: the loaders read
// files by path, and a real temporary file per execution would cost a disk
// write each time.
class MemoryFile {
 public:
  explicit MemoryFile(const char* name) : fd_(::memfd_create(name, 0)) {
    if (fd_ < 0) {
      std::perror("memfd_create");
      std::abort();
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~MemoryFile() { ::close(fd_); }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;

  const std::string& Write(std::string_view bytes) {
    if (::ftruncate(fd_, 0) != 0) std::abort();
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
      if (n <= 0) std::abort();
      done += static_cast<size_t>(n);
    }
    return path_;
  }
  const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_;
};

}  // namespace zicht::fuzz
