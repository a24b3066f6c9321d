/*
 * Test-only shim for running the Windows build under Wine 8 (packaging/smoke-test-msi.sh).
 *
 * Rust's standard library (1.78+) and getrandom draw random bytes from
 * bcryptprimitives.dll!ProcessPrng. Wine 8.0 has no bcryptprimitives.dll, so a Rust
 * binary fails to load there (it exits at once with code 53). This DLL provides
 * ProcessPrng on top of advapi32!SystemFunction036 (RtlGenRandom), which Wine has.
 *
 * It is copied into the Wine prefix's system32 by the smoke test only. It is never
 * part of the MSI: real Windows (8.1 and later) ships its own bcryptprimitives.dll.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

/* advapi32!SystemFunction036, better known as RtlGenRandom. */
BOOLEAN WINAPI SystemFunction036(PVOID RandomBuffer, ULONG RandomBufferLength);

/* Same contract as Windows': fills pbData with cbData random bytes, returns TRUE. */
BOOL WINAPI ProcessPrng(PBYTE pbData, SIZE_T cbData)
{
    while (cbData > 0) {
        ULONG chunk = cbData > 0x7fffffffu ? 0x7fffffffu : (ULONG)cbData;
        if (!SystemFunction036(pbData, chunk))
            return FALSE;
        pbData += chunk;
        cbData -= chunk;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    (void)instance;
    (void)reason;
    (void)reserved;
    return TRUE;
}
