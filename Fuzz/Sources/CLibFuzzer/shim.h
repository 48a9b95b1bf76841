#ifndef LINKTRACK_CLIBFUZZER_SHIM_H
#define LINKTRACK_CLIBFUZZER_SHIM_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (libclang_rt.fuzzer, linked by -sanitize=fuzzer). The fuzz targets' entry
/// points call it themselves, because SwiftPM links an executable with `main` aliased to
/// `<Module>_main` (`--defsym main=<Module>_main`), which hides libFuzzer's own main.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
