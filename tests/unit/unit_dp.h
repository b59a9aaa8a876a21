/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Group setup and teardown (cmocka) of unit tests of the datapath's tables:
 * EAL (unit_eal.h) with 512 MiB, named after the program, RCU with one
 * reader and dp_tsc_hz set.
 */
#ifndef TESS_UNIT_DP_H
#define TESS_UNIT_DP_H

int unit_dp_setup(void **state);
int unit_dp_teardown(void **state);

#endif
