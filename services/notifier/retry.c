#include "retry.h"

uint64_t nt_backoff_ms(uint32_t first_ms, uint32_t max_ms, uint32_t attempts, double rnd)
{
    uint64_t d = first_ms;
    for (uint32_t i = 1; i < attempts && d < max_ms; i++)
        d *= 2;
    if (d > max_ms)
        d = max_ms;
    if (rnd < 0)
        rnd = 0;
    if (rnd >= 1)
        rnd = 0.999999;
    return d / 2 + (uint64_t)((double)(d - d / 2) * rnd);
}

void nt_bucket_init(nt_bucket_t *b, uint32_t rate_per_s, uint32_t burst, int64_t now_us)
{
    b->rate = rate_per_s / 1e6;
    b->burst = burst ? burst : 1;
    b->tokens = b->burst;
    b->last_us = now_us;
}

static void refill(nt_bucket_t *b, int64_t now_us)
{
    if (now_us > b->last_us) {
        b->tokens += (double)(now_us - b->last_us) * b->rate;
        if (b->tokens > b->burst)
            b->tokens = b->burst;
        b->last_us = now_us;
    }
}

bool nt_bucket_take(nt_bucket_t *b, int64_t now_us)
{
    refill(b, now_us);
    if (b->tokens < 1.0)
        return false;
    b->tokens -= 1.0;
    return true;
}

int64_t nt_bucket_wait_us(nt_bucket_t *b, int64_t now_us)
{
    refill(b, now_us);
    if (b->tokens >= 1.0)
        return 0;
    return (int64_t)((1.0 - b->tokens) / b->rate) + 1;
}

const char *nt_state_name(nt_state_t s)
{
    static const char *const names[] = {"pending", "sent", "failed", "expired"};
    return s >= NT_PENDING && s <= NT_EXPIRED ? names[s] : "unknown";
}

nt_state_t nt_after_attempt(nt_outcome_t outcome, int64_t now_us, int64_t deadline_us,
                            uint32_t attempts, uint32_t first_ms, uint32_t max_ms, double rnd,
                            int64_t *next_at)
{
    if (outcome == NT_DELIVERED)
        return NT_SENT;
    if (outcome == NT_PERMANENT)
        return NT_FAILED;
    int64_t at = now_us + (int64_t)nt_backoff_ms(first_ms, max_ms, attempts, rnd) * 1000;
    if (at >= deadline_us)
        return NT_EXPIRED;
    *next_at = at;
    return NT_PENDING;
}
