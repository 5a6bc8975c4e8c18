// The reference loaders' tests write small CSV files. ctest runs every test
// case as a process of its own, two at a time: a name per process keeps one
// case from rewriting a file another is reading.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace zicht::reference::testing_files {

// Writes `text` byte for byte (CRLF stays CRLF) and returns the path.
inline std::string Write(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + std::to_string(::getpid()) + "-" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

}  // namespace zicht::reference::testing_files
