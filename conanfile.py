"""Conan 2 recipe for salama, a header-only C++20 library."""
import os

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout
from conan.tools.files import copy


class SalamaConan(ConanFile):
    name = "salama"
    version = "0.1.0"
    license = "BSL-1.0"
    description = ("Header-only C++20 controls for running a service at scale: autoscaling, "
                   "load balancing, tiered caching and GPU batch sizing.")
    topics = ("autoscaling", "load-balancing", "cache", "gpu", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    options = {
        "with_redis": [True, False],
        "with_prometheus": [True, False],
        "with_kubernetes": [True, False],
        "with_cuda": [True, False],
    }
    default_options = {
        "with_redis": False,
        "with_prometheus": False,
        "with_kubernetes": False,
        "with_cuda": False,
    }
    exports_sources = ("CMakeLists.txt", "LICENSE", "cmake/*", "include/*")
    no_copy_source = True

    def requirements(self):
        # Boost 1.81 is the oldest with everything salama uses (Asio awaitables, URL, result).
        self.requires("boost/[>=1.81.0]")
        self.requires("fmt/[>=9.0.0]")
        if self.options.with_redis:
            self.requires("hiredis/[>=0.14.0]")
        if self.options.with_prometheus or self.options.with_kubernetes:
            self.requires("openssl/[>=3.0.0]")
        # CUDA is taken from the system toolkit: Conan Center has no CUDA package.

    def validate(self):
        check_min_cppstd(self, 20)

    def layout(self):
        cmake_layout(self)

    def generate(self):
        CMakeToolchain(self).generate()
        CMakeDeps(self).generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure(variables={
            "SALAMA_BUILD_TESTS": "OFF",
            "SALAMA_BUILD_EXAMPLES": "OFF",
            "SALAMA_BUILD_BENCHMARKS": "OFF",
        })

    def package(self):
        copy(self, "LICENSE", src=self.source_folder, dst=os.path.join(self.package_folder, "licenses"))
        copy(self, "*.hpp", src=os.path.join(self.source_folder, "include"),
             dst=os.path.join(self.package_folder, "include"))

    def package_id(self):
        self.info.clear()

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "salama")
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []

        core = self.cpp_info.components["core"]
        core.set_property("cmake_target_name", "salama::salama")
        core.requires = ["boost::headers", "fmt::fmt"]
        if self.settings.os in ("Linux", "FreeBSD"):
            core.system_libs = ["pthread"]

        if self.options.with_redis:
            redis = self.cpp_info.components["redis"]
            redis.set_property("cmake_target_name", "salama::redis")
            redis.requires = ["core", "hiredis::hiredis"]
        for comp in ("prometheus", "kubernetes"):
            if getattr(self.options, f"with_{comp}"):
                c = self.cpp_info.components[comp]
                c.set_property("cmake_target_name", f"salama::{comp}")
                c.requires = ["core", "boost::json", "boost::url", "openssl::ssl", "openssl::crypto"]
        if self.options.with_cuda:
            cuda = self.cpp_info.components["cuda"]
            cuda.set_property("cmake_target_name", "salama::cuda")
            cuda.requires = ["core"]
            cuda.system_libs = ["cudart", "dl"]
