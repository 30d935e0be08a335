#!/usr/bin/env python3
"""Checks that the vcpkg manifests and the Conan recipe parse and name the same
dependencies as salama's CMake files.

Usage: check_manifests.py SOURCE_DIR   (exit 0 when consistent, 1 with the reasons)
"""
import ast
import json
import re
import sys
from pathlib import Path

# find_package() name in CMake -> (vcpkg names, Conan name or None when Conan has none).
# Threads comes with the toolchain; test-only packages are checked separately.
CMAKE_TO_PACKAGES = {
    "Boost": ({"boost-asio", "boost-system", "boost-multi-index", "boost-beast", "boost-json",
               "boost-url", "boost-unordered", "boost-intrusive", "boost-assert",
               "boost-throw-exception"}, "boost"),
    "fmt": ({"fmt"}, "fmt"),
    "hiredis": ({"hiredis"}, "hiredis"),
    "OpenSSL": ({"openssl"}, "openssl"),
    "CUDAToolkit": ({"cuda"}, None),
}
NOT_PACKAGES = {"Threads", "PkgConfig", "Python3", "salama"}
TEST_ONLY = {"Catch2": "catch2", "benchmark": "benchmark"}
VCPKG_TOOLS = {"vcpkg-cmake", "vcpkg-cmake-config"}


def cmake_packages(root: Path) -> set:
    names = set()
    files = [root / "CMakeLists.txt", *sorted((root / "cmake").glob("*.cmake")),
             root / "tests" / "CMakeLists.txt", root / "benchmarks" / "CMakeLists.txt"]
    for f in files:
        for m in re.finditer(r"find_package\(\s*([A-Za-z0-9_]+)", f.read_text()):
            names.add(m.group(1))
    return names - NOT_PACKAGES


# The Boost library a public header's `#include <boost/X...>` belongs to, as vcpkg names it.
BOOST_HEADER_TO_VCPKG = {
    "asio": "boost-asio", "system": "boost-system", "multi_index": "boost-multi-index",
    "multi_index_container": "boost-multi-index", "unordered": "boost-unordered",
    "intrusive": "boost-intrusive", "beast": "boost-beast", "json": "boost-json", "url": "boost-url",
    "assert": "boost-assert", "throw_exception": "boost-throw-exception",
}
# Folders of include/salama/ that belong to an optional component (its vcpkg feature).
COMPONENT_DIRS = {"redis", "prometheus", "kubernetes", "cuda"}


def boost_used_by_core(root: Path) -> dict:
    """vcpkg name -> a header of the core that includes it."""
    used = {}
    base = root / "include" / "salama"
    for h in sorted(base.rglob("*.hpp")):
        if h.relative_to(base).parts[0] in COMPONENT_DIRS:
            continue
        for m in re.finditer(r"#include\s*<boost/([a-z_0-9]+)", h.read_text()):
            lib = m.group(1)
            used.setdefault(BOOST_HEADER_TO_VCPKG.get(lib, f"<unknown boost library {lib}>"),
                            str(h.relative_to(root)))
    return used


def vcpkg_names(manifest: dict, with_features=True) -> set:
    def names(deps):
        return {d if isinstance(d, str) else d["name"] for d in deps}
    out = names(manifest.get("dependencies", []))
    if with_features:
        for feat in manifest.get("features", {}).values():
            out |= names(feat.get("dependencies", []))
    return out - VCPKG_TOOLS


def conan_requires(path: Path) -> set:
    tree = ast.parse(path.read_text(), str(path))
    out = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "requires" and node.args
                and isinstance(node.args[0], ast.Constant)):
            out.add(node.args[0].value.split("/")[0])
    return out


def main() -> int:
    root = Path(sys.argv[1])
    problems = []
    cm = cmake_packages(root)
    unknown = cm - set(CMAKE_TO_PACKAGES) - set(TEST_ONLY)
    if unknown:
        problems.append(f"CMake finds packages this check does not know: {sorted(unknown)}")
    runtime = cm & set(CMAKE_TO_PACKAGES)
    want_vcpkg = set().union(*(CMAKE_TO_PACKAGES[n][0] for n in runtime))
    want_conan = {CMAKE_TO_PACKAGES[n][1] for n in runtime} - {None}

    manifests = {}
    for rel in ("vcpkg.json", "ports/salama/vcpkg.json"):
        try:
            manifests[rel] = json.loads((root / rel).read_text())
        except (OSError, json.JSONDecodeError) as e:
            problems.append(f"{rel}: does not parse as JSON: {e}")
    for rel, m in manifests.items():
        if m.get("name") != "salama":
            problems.append(f"{rel}: name is {m.get('name')!r}, expected 'salama'")
        got = vcpkg_names(m)
        tests = {TEST_ONLY[n] for n in cm & set(TEST_ONLY)} if rel == "vcpkg.json" else set()
        # Every package CMake finds is named; nothing is named that CMake does not find.
        # Boost libraries are named one by one: each must be one salama uses.
        missing = (want_vcpkg | tests) - got
        extra = got - want_vcpkg - tests
        if missing:
            problems.append(f"{rel}: lacks {sorted(missing)} that CMakeLists.txt uses")
        if extra:
            problems.append(f"{rel}: names {sorted(extra)} that CMakeLists.txt does not use")
        # Every Boost library a core header includes is a dependency of the core itself, not
        # only of some feature (a consumer without that feature would not build).
        core = vcpkg_names(m, with_features=False)
        for lib, header in sorted(boost_used_by_core(root).items()):
            if lib not in core:
                problems.append(f"{rel}: the core's dependencies lack {lib}, which {header} includes")
        for comp in ("redis", "prometheus", "kubernetes", "cuda"):
            if comp not in m.get("features", {}):
                problems.append(f"{rel}: no feature for component {comp}")
    if len(manifests) == 2:
        a, b = manifests["vcpkg.json"], manifests["ports/salama/vcpkg.json"]
        if a.get("version-semver") != b.get("version-semver"):
            problems.append("vcpkg.json and the port disagree on the version")

    conan = conan_requires(root / "conanfile.py")
    if conan != want_conan:
        problems.append(f"conanfile.py requires {sorted(conan)}, CMake needs {sorted(want_conan)}")
    version = re.search(r"project\(salama VERSION ([0-9.]+)", (root / "CMakeLists.txt").read_text())
    if not version:
        problems.append("CMakeLists.txt: no project(salama VERSION ...)")
    else:
        v = version.group(1)
        if f'version = "{v}"' not in (root / "conanfile.py").read_text():
            problems.append(f"conanfile.py version differs from CMakeLists.txt ({v})")
        for rel, m in manifests.items():
            if m.get("version-semver") != v:
                problems.append(f"{rel}: version {m.get('version-semver')} differs from {v}")

    for p in problems:
        print(p)
    print(f"{'ok' if not problems else 'FAILED'}: CMake finds {sorted(cm)}; "
          f"vcpkg and Conan checked")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
