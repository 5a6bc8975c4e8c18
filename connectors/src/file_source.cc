#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "zicht/base/clock.h"
#include "zicht/connectors/file.h"

namespace zicht::connectors {
namespace {

constexpr size_t kPadding = 64;  // simdjson::SIMDJSON_PADDING

bool IsBlank(const char* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    char c = p[i];
    if (c != ' ' && c != '\t' && c != '\r' && c != '\f' && c != '\v') return false;
  }
  return true;
}

class FileSource : public EventSource {
 public:
  FileSource(FileSourceOptions options, int fd)
      : options_(std::move(options)),
        fd_(fd),
        offset_(options_.start_offset),
        line_(options_.start_line) {
    name_ = options_.path == "-" ? "stdin" : options_.path;
    buffer_.resize(options_.chunk_bytes + kPadding);
  }
  ~FileSource() override {
    if (fd_ > 0) ::close(fd_);
  }

  Status Poll(std::vector<SourceRecord>* batch, std::chrono::milliseconds timeout) override {
    batch->clear();
    // Move the unconsumed tail (a partial line) to the front, then read more.
    if (begin_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      if (end_ + kPadding >= buffer_.size()) {
        // A line longer than the buffer: grow up to max_line_bytes, then cut.
        if (buffer_.size() - kPadding < options_.max_line_bytes) {
          buffer_.resize(std::min(buffer_.size() * 2, options_.max_line_bytes + kPadding));
        } else {
          EmitCutLine(batch);
          return Status::Ok();
        }
      }
      ssize_t n = ::read(fd_, buffer_.data() + end_, buffer_.size() - kPadding - end_);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::IoError(fmt::format("{}: read failed: {}", name_, std::strerror(errno)));
      }
      if (n > 0) {
        end_ += static_cast<size_t>(n);
        std::memset(buffer_.data() + end_, 0, kPadding);
        if (SplitLines(batch, /*at_eof=*/false)) return Status::Ok();
        continue;  // no complete line yet: read more
      }
      // End of file.
      if (!options_.follow) {
        if (end_ > begin_) {
          SplitLines(batch, /*at_eof=*/true);
          return Status::Ok();
        }
        return Status::Aborted("end of input");
      }
      if (std::chrono::steady_clock::now() >= deadline) return Status::Ok();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  std::string Describe(const SourceRecord& record) const override {
    return fmt::format("{}:{}", name_, record.line);
  }

 private:
  // Emits every complete line in [begin_, end_); at EOF also the last one.
  bool SplitLines(std::vector<SourceRecord>* batch, bool at_eof) {
    const TimeMs now = SystemClock().WallMs();
    const char* base = buffer_.data();
    size_t pos = begin_;
    while (pos < end_) {
      const void* nl = std::memchr(base + pos, '\n', end_ - pos);
      size_t line_end = nl ? static_cast<size_t>(static_cast<const char*>(nl) - base) : end_;
      if (!nl && !at_eof) break;
      size_t next = nl ? line_end + 1 : end_;
      size_t content_end = line_end;
      if (content_end > pos && base[content_end - 1] == '\r') --content_end;
      if (IsBlank(base + pos, content_end - pos)) {
        // JSONL: blank or whitespace-only lines are skipped, not dead-lettered.
        offset_ += static_cast<int64_t>(next - pos);
        ++line_;
        pos = next;
        continue;
      }
      SourceRecord r;
      r.payload = std::string_view(base + pos, content_end - pos);
      r.padded = true;
      r.offset = offset_;
      r.next_offset = offset_ + static_cast<int64_t>(next - pos);
      r.line = line_;
      r.ingest_time = now;
      batch->push_back(r);
      offset_ = r.next_offset;
      ++line_;
      pos = next;
    }
    begin_ = pos;
    return !batch->empty();
  }

  // The buffer is full without a newline: emit what we have as one (cut)
  // record and skip the rest of that line.
  void EmitCutLine(std::vector<SourceRecord>* batch) {
    SourceRecord r;
    r.payload = std::string_view(buffer_.data() + begin_, end_ - begin_);
    r.padded = true;
    r.offset = offset_;
    r.line = line_;
    int64_t consumed = static_cast<int64_t>(end_ - begin_);
    // Skip to the next newline.
    char c;
    while (true) {
      ssize_t n = ::read(fd_, &c, 1);
      if (n <= 0) break;
      ++consumed;
      if (c == '\n') break;
    }
    r.next_offset = offset_ + consumed;
    offset_ = r.next_offset;
    ++line_;
    cut_payload_.assign(r.payload);
    cut_payload_.resize(cut_payload_.size() + kPadding, '\0');
    r.payload = std::string_view(cut_payload_.data(), end_ - begin_);
    begin_ = end_ = 0;
    batch->push_back(r);
  }

  FileSourceOptions options_;
  std::string name_;
  int fd_;
  std::string buffer_;
  std::string cut_payload_;
  size_t begin_ = 0, end_ = 0;
  int64_t offset_ = 0;
  int64_t line_ = 1;
};

}  // namespace

Result<FileIdentity> IdentifyFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return Status::IoError(fmt::format("{}: {}", path, std::strerror(errno)));
  }
  return FileIdentity{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                      static_cast<int64_t>(st.st_size)};
}

Result<EventSourcePtr> OpenFileSource(const FileSourceOptions& options) {
  int fd = 0;
  if (options.path != "-") {
    fd = ::open(options.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return Status::IoError(
          fmt::format("{}: cannot open: {}", options.path, std::strerror(errno)));
    }
    if (options.start_offset > 0 && ::lseek(fd, options.start_offset, SEEK_SET) < 0) {
      ::close(fd);
      return Status::IoError(
          fmt::format("{}: cannot seek: {}", options.path, std::strerror(errno)));
    }
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  } else if (options.start_offset > 0) {
    return Status::InvalidArgument("standard input cannot be resumed at an offset");
  }
  return EventSourcePtr(std::make_unique<FileSource>(options, fd));
}

}  // namespace zicht::connectors
