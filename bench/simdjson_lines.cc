// The physical reference of the replay benchmark: simdjson's own DOM parse of
// every line of a JSONL file, read the way zicht reads it (4 MiB chunks).
// Prints lines, seconds and lines/s as JSON.
#include <fmt/format.h>
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: simdjson_lines FILE.jsonl\n");
    return 2;
  }
  std::FILE* f = std::fopen(argv[1], "rb");
  if (f == nullptr) {
    std::perror(argv[1]);
    return 1;
  }
  simdjson::dom::parser parser;
  if (parser.allocate(64 * 1024, 32) != simdjson::SUCCESS) return 1;
  constexpr size_t kChunk = 4 << 20;
  std::string buf(kChunk + simdjson::SIMDJSON_PADDING, '\0');
  size_t begin = 0, end = 0, lines = 0, ok = 0;
  auto started = std::chrono::steady_clock::now();
  while (true) {
    if (begin > 0) {
      std::memmove(buf.data(), buf.data() + begin, end - begin);
      end -= begin;
      begin = 0;
    }
    size_t n = std::fread(buf.data() + end, 1, kChunk - end, f);
    if (n == 0) break;
    end += n;
    while (true) {
      const void* nl = std::memchr(buf.data() + begin, '\n', end - begin);
      if (nl == nullptr) break;
      size_t stop = static_cast<size_t>(static_cast<const char*>(nl) - buf.data());
      simdjson::dom::element doc;
      if (parser.parse(buf.data() + begin, stop - begin, false).get(doc) == simdjson::SUCCESS) ++ok;
      ++lines;
      begin = stop + 1;
    }
  }
  std::fclose(f);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  fmt::print("{{\"lines\":{},\"parsed\":{},\"seconds\":{:.3f},\"lines_per_second\":{:.0f}}}\n",
             lines, ok, seconds, static_cast<double>(lines) / seconds);
  return 0;
}
