#!/usr/bin/env python3
"""The layout rules of README "Modules", checked on the source tree.

1. Dependencies run one way: a file of module M includes `zicht/X/...` only
   when X is M or a module M's CMake target links (directly, or publicly
   through one it links). A module cannot include what its target does not
   link.
2. A third-party header is included only by a module that links its target
   (simdjson.h without simdjson::simdjson compiled with another
   SIMDJSON_THREADS_ENABLED and crashed /api/v1/alerts: the parser layouts
   differed).
3. No product source file is over 600 lines.
4. Every header opens with a comment that says what it is (its contract).

Usage: layout_check.py [REPO]   (exit 1 and one line per finding)
"""
import os
import re
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
MODULES = ["base", "yaml", "reference", "rules", "connectors", "monitoring", "engine", "api", "runtime", "tools", "cli"]
MAX_LINES = 600
# Header prefix -> the CMake targets that provide it (any one will do).
THIRD_PARTY = {
    "simdjson.h": {"simdjson::simdjson"},
    "rocksdb/": {"RocksDB::rocksdb"},
    "librdkafka/": {"PkgConfig::RDKAFKAXX", "PkgConfig::RDKAFKA"},
    "yaml-cpp/": {"yaml-cpp::yaml-cpp"},
    "spdlog/": {"spdlog::spdlog"},
    "fmt/": {"fmt::fmt"},
    "boost/": {"Boost::headers"},
    "prometheus/": {"prometheus-cpp::core", "prometheus-cpp::pull"},
    "CLI/": {"CLI11::CLI11"},
    "openssl/": {"OpenSSL::Crypto", "OpenSSL::SSL"},
}


def read_deps(module):
    text = open(os.path.join(ROOT, module, "CMakeLists.txt"), encoding="utf-8").read()
    call = re.search(r"zicht_module\(\s*" + module + r"\b(.*?)\)\s*$", text, re.S | re.M)
    if not call:
        sys.exit(f"layout_check: no zicht_module({module} ...) in {module}/CMakeLists.txt")
    body = call.group(1)
    public, private, current = [], [], None
    for token in body.split():
        if token in ("SOURCES", "PUBLIC_DEPS", "PRIVATE_DEPS"):
            current = token
        elif current == "PUBLIC_DEPS":
            public.append(token)
        elif current == "PRIVATE_DEPS":
            private.append(token)
    # Executables and extra links in the same folder (cli: the zicht binary).
    extra = re.findall(r"target_link_libraries\([A-Za-z_]+\s+(?:PUBLIC|PRIVATE)\s+([^)]*)\)", text)
    for e in extra:
        private.extend(e.split())
    return public, private


def main():
    deps = {m: read_deps(m) for m in MODULES}

    def public_closure(target, seen):
        if target in seen:
            return
        seen.add(target)
        if target.startswith("zicht::"):
            for t in deps[target[len("zicht::"):]][0]:
                public_closure(t, seen)

    visible = {}
    for m in MODULES:
        seen = set()
        public, private = deps[m]
        for t in public + private:
            public_closure(t, seen)
        visible[m] = seen

    findings = []
    include_re = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')
    for m in MODULES:
        for dirpath, _, files in os.walk(os.path.join(ROOT, m)):
            for f in sorted(files):
                if not f.endswith((".cc", ".h")):
                    continue
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, ROOT)
                lines = open(path, encoding="utf-8").read().splitlines()
                if len(lines) > MAX_LINES:
                    findings.append(f"{rel}: {len(lines)} lines (at most {MAX_LINES}): split it by concept")
                if f.endswith(".h") and not (lines and lines[0].startswith("//")):
                    findings.append(f"{rel}:1: a header opens with a comment that says what it is")
                for n, line in enumerate(lines, 1):
                    inc = include_re.match(line)
                    if not inc:
                        continue
                    name = inc.group(1)
                    z = re.match(r"zicht/([a-z_]+)/", name)
                    if z:
                        other = z.group(1)
                        if other != m and f"zicht::{other}" not in visible[m]:
                            findings.append(f"{rel}:{n}: {m} includes {name} but does not link zicht::{other}")
                        continue
                    for prefix, targets in THIRD_PARTY.items():
                        if name.startswith(prefix) and not targets & visible[m]:
                            findings.append(f"{rel}:{n}: {m} includes <{name}> but does not link "
                                            f"{' or '.join(sorted(targets))}")
    for line in findings:
        print(line)
    if findings:
        print(f"layout_check: {len(findings)} finding(s)")
        return 1
    print(f"layout_check: {len(MODULES)} modules, dependency rule, third-party links, file sizes and header comments ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
