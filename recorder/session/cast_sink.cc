#include "recorder/session/cast_sink.h"

#include <utility>

namespace gate::recorder {
namespace {

class CastSink final : public RecordingSink {
 public:
  explicit CastSink(cast::Writer writer) : writer_(std::move(writer)) {}
  void Output(double t, std::string_view bytes) override { writer_.Output(t, bytes); }
  void Input(double t, std::string_view bytes) override { writer_.Input(t, bytes); }
  void Resize(double t, int cols, int rows) override { writer_.Resize(t, cols, rows); }
  void Join(double t, std::string_view json) override { writer_.Join(t, json); }
  void Exit(double t, std::string_view json) override { writer_.Exit(t, json); }
  Status Flush(double t) override { return writer_.Flush(t); }
  Status Close(double t) override { return writer_.Close(t); }
  std::size_t buffered_bytes() const override { return writer_.buffered_bytes(); }

 private:
  cast::Writer writer_;
};

}  // namespace

std::unique_ptr<RecordingSink> MakeCastSink(cast::Writer writer) {
  return std::make_unique<CastSink>(std::move(writer));
}

}  // namespace gate::recorder
