/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessd in a fuzzer's process: EAL without hugepages, the modules, net_null
 * ports and the first snapshot, all from a config, as tessd's main() sets
 * them up; no worker lcore runs. Frames are then fed to the stage of their
 * port on worker 0, as dp_worker_main does, and the control thread's and
 * worker 0's polls run after each burst (learning, the router's slow path).
 */
#ifndef TESS_FUZZ_TESSD_H
#define TESS_FUZZ_TESSD_H

#include <stddef.h>
#include <stdint.h>

/* Starts tessd from config (JSON; "eal" is filled in); exits the process on failure. */
void fuzz_tessd_start(const char *name, const char *config);

/*
 * Runs the frames of one input. The input is records of
 *   [port: 1 byte, bit 7: in two segments][length: 2 bytes, big endian][frame]
 * (the last one cut at the end of the input); consecutive records of one
 * port make one burst, as a port's RX queue gives them.
 */
void fuzz_tessd_frames(const uint8_t *data, size_t size);

#endif
