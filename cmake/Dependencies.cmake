# Every dependency is an installed Debian package (scripts/setup installs them);
# nothing is vendored or downloaded at configure time.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED)            # SHA-256 for alert ids and rule versions
find_package(RocksDB CONFIG REQUIRED)
find_package(Boost 1.74 REQUIRED)         # header-only parts: Asio, Beast, Math
find_package(prometheus-cpp CONFIG REQUIRED)
find_package(yaml-cpp CONFIG REQUIRED)
find_package(simdjson CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(GTest CONFIG REQUIRED)
if(ZICHT_BUILD_BENCH)
  find_package(benchmark CONFIG REQUIRED)
endif()
pkg_check_modules(RDKAFKAXX REQUIRED IMPORTED_TARGET rdkafka++)

# yaml-cpp 0.7 on Debian exports the target without a namespace.
if(TARGET yaml-cpp AND NOT TARGET yaml-cpp::yaml-cpp)
  add_library(yaml-cpp::yaml-cpp ALIAS yaml-cpp)
endif()
