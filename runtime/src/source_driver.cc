#include "source_driver.h"

namespace zicht::runtime {
namespace {

class FileDriver final : public SourceDriver {
 public:
  FileDriver(connectors::EventSourcePtr source, std::string name, bool exit_at_end)
      : source_(std::move(source)), name_(std::move(name)), exit_at_end_(exit_at_end) {}

  Status Poll(std::vector<connectors::SourceRecord>* batch,
              std::chrono::milliseconds timeout) override {
    Status s = source_->Poll(batch, timeout);
    if (s.code() != StatusCode::kAborted) return s;
    batch->clear();  // exhausted: nothing more in this batch
    at_end_ = true;
    return Status::Ok();
  }
  const std::string& name() const override { return name_; }
  // The line number says more than the source's own description here.
  std::string Describe(const connectors::SourceRecord&) const override { return name_; }
  bool route_by_municipality() const override { return true; }
  bool AtEnd() const override { return at_end_; }
  bool exit_at_end() const override { return exit_at_end_; }

 private:
  connectors::EventSourcePtr source_;
  std::string name_;
  bool exit_at_end_;
  bool at_end_ = false;
};

class KafkaDriver final : public SourceDriver {
 public:
  KafkaDriver(KafkaRuntime* kafka, bool stop_at_end) : kafka_(kafka), stop_at_end_(stop_at_end) {}

  Status Poll(std::vector<connectors::SourceRecord>* batch,
              std::chrono::milliseconds timeout) override {
    return kafka_->Poll(batch, timeout);
  }
  const std::string& name() const override { return kafka_->source_name(); }
  std::string Describe(const connectors::SourceRecord& record) const override {
    return kafka_->Describe(record);
  }
  bool route_by_municipality() const override { return false; }
  Status Maintain() override { return kafka_->Maintain(); }
  std::optional<int64_t> lag() const override { return kafka_->lag(); }
  bool AtEnd() const override { return stop_at_end_ && kafka_->ReachedEnd(); }
  bool exit_at_end() const override { return true; }
  Status Close() override { return kafka_->Close(); }

 private:
  KafkaRuntime* kafka_;
  bool stop_at_end_;
};

}  // namespace

std::unique_ptr<SourceDriver> MakeFileDriver(connectors::EventSourcePtr source, std::string name,
                                             bool exit_at_end) {
  return std::make_unique<FileDriver>(std::move(source), std::move(name), exit_at_end);
}

std::unique_ptr<SourceDriver> MakeKafkaDriver(KafkaRuntime* kafka, bool stop_at_end) {
  return std::make_unique<KafkaDriver>(kafka, stop_at_end);
}

}  // namespace zicht::runtime
