// zicht run: the long-running engine (SPEC sections 6 and 7).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <csignal>

#include "zicht/cli/commands.h"
#include "zicht/runtime/config.h"
#include "zicht/runtime/runtime.h"

namespace zicht::cli {

using runtime::ConfigPropertiesMarkdown;
using runtime::EngineRuntime;
using runtime::LoadEngineConfig;
namespace {

EngineRuntime* g_runtime = nullptr;

// Only async-signal-safe work here: the runtime polls these flags.
void OnSignal(int signal) {
  if (g_runtime == nullptr) return;
  if (signal == SIGHUP) {
    g_runtime->RequestReload();
  } else {
    g_runtime->RequestStop();
  }
}

}  // namespace

int RunCommand(const RunCommandOptions& options) {
  auto config = LoadEngineConfig(options.config_path);
  if (!config.ok()) {
    fmt::print(stderr, "{}\n", config.status().message());
    return 1;
  }
  EngineRuntime runtime(std::move(config).value());
  Status started = runtime.Start();
  if (!started.ok()) {
    fmt::print(stderr, "zicht run: {}\n", started.message());
    return 1;
  }
  g_runtime = &runtime;
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaction(sig, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  int code = runtime.Run();
  g_runtime = nullptr;
  return code;
}

int ConfigDescribeCommand() {
  fmt::print("{}", ConfigPropertiesMarkdown());
  return 0;
}

}  // namespace zicht::cli
