/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The resource manager: samples running desktops' CPU time through libvirt
 * and throttles bursting desktops of saturated partitions (policy in
 * mgr_config.h, struct mgr_resources_cfg).
 */
#ifndef TESS_MGR_RESMGR_H
#define TESS_MGR_RESMGR_H

int mgr_resmgr_start(void);
void mgr_resmgr_stop(void);
/* One round of sampling and decisions (the thread runs it every sample_sec). */
void mgr_resmgr_sample(void);

#endif
