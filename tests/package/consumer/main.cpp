// Uses the installed salama: the core, and each optional component that was found.
#include <salama/salama.hpp>

#if defined(CONSUMER_HAS_REDIS)
#include <hiredis/hiredis.h>
#endif
#if defined(CONSUMER_HAS_CUDA)
#include <cuda_runtime_api.h>
#endif

int main() {
    salama::metrics_registry registry;
    (void)registry.counter("consumer_runs_total", "Runs of the consumer.").with({}).inc();
    const std::string text = registry.render();
    if (text.find("consumer_runs_total 1") == std::string::npos) return 1;

#if defined(CONSUMER_HAS_REDIS)
    // Link against hiredis through salama::redis: parse one RESP reply.
    redisReader* reader = redisReaderCreate();
    redisReaderFeed(reader, "+PONG\r\n", 7);
    void* reply = nullptr;
    const bool ok = redisReaderGetReply(reader, &reply) == REDIS_OK && reply != nullptr;
    if (reply) freeReplyObject(reply);
    redisReaderFree(reader);
    if (!ok) return 2;
    fmt::print("component redis: yes\n");
#else
    fmt::print("component redis: no\n");
#endif
#if defined(CONSUMER_HAS_CUDA)
    int version = 0;  // the runtime's own version: needs no GPU
    if (cudaRuntimeGetVersion(&version) != cudaSuccess || version <= 0) return 3;
    fmt::print("component cuda: yes (runtime {})\n", version);
#else
    fmt::print("component cuda: no\n");
#endif
    return 0;
}
