#include <fmt/format.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "zicht/base/base64.h"
#include "zicht/base/json_writer.h"
#include "zicht/connectors/file.h"

namespace zicht::connectors {
namespace {

// Appends lines to a file; acknowledges ids once they are flushed.
class LineFileSink : public RecordSink {
 public:
  enum class Format { kValue, kDeadLetter };
  LineFileSink(std::string path, std::FILE* f, Format format, bool durable)
      : path_(std::move(path)), file_(f), format_(format), durable_(durable) {}
  ~LineFileSink() override {
    if (file_ != nullptr && file_ != stdout) std::fclose(file_);
  }

  Status Send(uint64_t id, const OutRecord& record) override {
    line_.clear();
    if (format_ == Format::kValue) {
      line_.append(record.value);
    } else {
      JsonWriter w(&line_);
      w.BeginObject();
      w.Key("reason").String(record.header(kReasonHeader));
      w.Key("detail").String(record.header(kDetailHeader));
      w.Key("source").String(record.header(kSourceHeader));
      std::string b64;
      Base64Encode(record.value, &b64);
      w.Key("raw_base64").String(b64);
      w.EndObject();
    }
    line_.push_back('\n');
    if (std::fwrite(line_.data(), 1, line_.size(), file_) != line_.size()) {
      return Status::IoError(fmt::format("{}: write failed: {}", path_, std::strerror(errno)));
    }
    pending_.push_back(id);
    return Status::Ok();
  }

  Status Flush(std::vector<uint64_t>* acked, std::chrono::milliseconds) override {
    if (std::fflush(file_) != 0) {
      return Status::IoError(fmt::format("{}: flush failed: {}", path_, std::strerror(errno)));
    }
    if (durable_ && file_ != stdout && ::fsync(fileno(file_)) != 0) {
      return Status::IoError(fmt::format("{}: fsync failed: {}", path_, std::strerror(errno)));
    }
    acked->insert(acked->end(), pending_.begin(), pending_.end());
    pending_.clear();
    return Status::Ok();
  }

 private:
  std::string path_;
  std::FILE* file_;
  Format format_;
  bool durable_;
  std::string line_;
  std::vector<uint64_t> pending_;
};

Result<RecordSinkPtr> OpenLineSink(const std::string& path, LineFileSink::Format format,
                                   bool durable) {
  std::FILE* f = path == "-" ? stdout : std::fopen(path.c_str(), "ab");
  if (f == nullptr) {
    return Status::IoError(
        fmt::format("{}: cannot open for writing: {}", path, std::strerror(errno)));
  }
  if (f != stdout) std::setvbuf(f, nullptr, _IOFBF, 1 << 20);
  return RecordSinkPtr(std::make_unique<LineFileSink>(path, f, format, durable));
}

class AlertPrinterSink : public RecordSink {
 public:
  explicit AlertPrinterSink(std::FILE* stream) : stream_(stream) {}

  Status Send(uint64_t id, const OutRecord& record) override {
    simdjson::padded_string json(record.value);
    simdjson::dom::element doc;
    if (parser_.parse(json).get(doc) == simdjson::SUCCESS) {
      auto text = [&](const char* key) -> std::string_view {
        std::string_view v;
        return doc[key].get_string().get(v) == simdjson::SUCCESS ? v : std::string_view("?");
      };
      double score = 0;
      if (doc["score"].get_double().get(score) != simdjson::SUCCESS) score = 0;
      fmt::print(stream_, "ALERT {:<8} {:<28} {} {:<24} {}  score={:.2f}  id={}\n",
                 text("severity"), text("rule"), text("municipality"), text("municipality_name"),
                 text("event_time"), score, text("alert_id").substr(0, 12));
    }
    pending_.push_back(id);
    return Status::Ok();
  }

  Status Flush(std::vector<uint64_t>* acked, std::chrono::milliseconds) override {
    std::fflush(stream_);
    acked->insert(acked->end(), pending_.begin(), pending_.end());
    pending_.clear();
    return Status::Ok();
  }

 private:
  std::FILE* stream_;
  simdjson::dom::parser parser_;
  std::vector<uint64_t> pending_;
};

// A record is acknowledged once every sink has acknowledged it.
class FanOutSink : public RecordSink {
 public:
  explicit FanOutSink(std::vector<RecordSinkPtr> sinks) : sinks_(std::move(sinks)) {}

  Status Send(uint64_t id, const OutRecord& record) override {
    for (auto& s : sinks_) ZICHT_RETURN_IF_ERROR(s->Send(id, record));
    outstanding_.emplace_back(id, 0);
    return Status::Ok();
  }

  Status Flush(std::vector<uint64_t>* acked, std::chrono::milliseconds timeout) override {
    std::vector<uint64_t> got;
    for (auto& s : sinks_) {
      got.clear();
      ZICHT_RETURN_IF_ERROR(s->Flush(&got, timeout));
      for (uint64_t id : got) {
        for (auto& [oid, count] : outstanding_) {
          if (oid == id) {
            ++count;
            break;
          }
        }
      }
    }
    std::vector<std::pair<uint64_t, size_t>> keep;
    for (auto& [oid, count] : outstanding_) {
      if (count >= sinks_.size()) {
        acked->push_back(oid);
      } else {
        keep.emplace_back(oid, count);
      }
    }
    outstanding_.swap(keep);
    return Status::Ok();
  }

  std::vector<uint64_t> TakeFailedIds() override {
    std::vector<uint64_t> failed;
    for (auto& s : sinks_) {
      for (uint64_t id : s->TakeFailedIds()) {
        if (std::find(failed.begin(), failed.end(), id) == failed.end()) failed.push_back(id);
      }
    }
    std::erase_if(outstanding_, [&](const auto& o) {
      return std::find(failed.begin(), failed.end(), o.first) != failed.end();
    });
    return failed;
  }

 private:
  std::vector<RecordSinkPtr> sinks_;
  std::vector<std::pair<uint64_t, size_t>> outstanding_;
};

}  // namespace

Result<RecordSinkPtr> OpenJsonlSink(const std::string& path, bool durable) {
  return OpenLineSink(path, LineFileSink::Format::kValue, durable);
}

Result<RecordSinkPtr> OpenDeadLetterFileSink(const std::string& path, bool durable) {
  return OpenLineSink(path, LineFileSink::Format::kDeadLetter, durable);
}

RecordSinkPtr MakeAlertPrinterSink(std::FILE* stream) {
  return std::make_unique<AlertPrinterSink>(stream);
}

RecordSinkPtr MakeFanOutSink(std::vector<RecordSinkPtr> sinks) {
  return std::make_unique<FanOutSink>(std::move(sinks));
}

}  // namespace zicht::connectors
