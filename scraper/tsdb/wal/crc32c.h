// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum that guards every WAL
// record. Extend() lets a checksum run over several buffers. The hardware path (SSE4.2
// crc32 instruction) is used when the CPU has it; the portable slicing-by-8 table path
// gives identical results and is exposed for tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace shardwise::tsdb::wal {

// Returns the CRC32C of `data` continued from `crc` (0 for a fresh checksum).
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t n);
inline uint32_t Crc32c(const void* data, size_t n) { return Crc32cExtend(0, data, n); }
inline uint32_t Crc32c(std::string_view s) { return Crc32c(s.data(), s.size()); }

// The table implementation, always available; for tests and non-x86 builds.
uint32_t Crc32cExtendPortable(uint32_t crc, const void* data, size_t n);
// True when Crc32cExtend uses the SSE4.2 instruction.
bool Crc32cHardwareAccelerated();

}  // namespace shardwise::tsdb::wal
