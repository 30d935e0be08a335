// Smallest use of salama: count something and render the Prometheus exposition.
#include <salama/salama.hpp>

int main() {
    salama::metrics_registry registry;
    (void)registry.counter("test_package_runs_total", "Runs of the test package.").with({}).inc();
    fmt::print("{}", registry.render());
    return 0;
}
