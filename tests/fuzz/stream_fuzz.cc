// libFuzzer target for a stream's serialized form (Stream::Deserialize), which checkpoints hold:
// what loads must be a stream every operation can use (ASan catches a read outside a chunk),
// whose form loads back to the same form.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/stream.h"
#include "fuzz_check.h"

namespace {

using namespace runnel::engine;

volatile char sink;

// Walks every live entry and reads the last byte of every field and value (ASan checks that it
// is inside a chunk); returns how many entries.
size_t Walk(const Stream& s, bool reverse) {
  StreamIterator it(s, StreamId::Min(), StreamId::Max(), reverse);
  EntryView e;
  size_t n = 0;
  while (it.Next(&e)) {
    ++n;
    e.ForEachField([](std::string_view f, std::string_view v) {
      if (!f.empty()) sink = f.back();
      if (!v.empty()) sink = v.back();
    });
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  std::string_view data(reinterpret_cast<const char*>(bytes), size);
  std::unique_ptr<Stream> s = Stream::Deserialize(data);
  if (s == nullptr) return 0;
  std::string form;
  s->Serialize(&form);
  std::unique_ptr<Stream> again = Stream::Deserialize(form);
  FUZZ_CHECK(again != nullptr);
  std::string form2;
  again->Serialize(&form2);
  FUZZ_CHECK(form2 == form);
  const size_t n = Walk(*s, false);
  FUZZ_CHECK(n == s->length());
  FUZZ_CHECK(Walk(*s, true) == n);
  for (const auto& [name, g] : s->groups()) {
    int64_t lag;
    (void)s->Lag(*g, &lag);
  }
  if (n > 0) FUZZ_CHECK(s->Delete(s->FirstId()));
  StreamId next = s->last_id();
  if (next.Increment()) {
    const std::vector<std::string_view> fv = {"f", "v"};
    s->Append(next, fv);
  }
  s->Trim({TrimSpec::Kind::kMaxLen, 3, {}, true, 0});
  s->Trim({TrimSpec::Kind::kMinId, 0, s->last_id(), false, 0});
  FUZZ_CHECK(Walk(*s, false) == s->length());
  return 0;
}
