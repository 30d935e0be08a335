// A main for Catch2 packages that ship no Catch2WithMain library.
#if defined(SALAMA_CATCH2_MAJOR) && SALAMA_CATCH2_MAJOR >= 3
#include <catch2/catch_session.hpp>
int main(int argc, char* argv[]) { return Catch::Session().run(argc, argv); }
#else
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#endif
