/* SPDX-License-Identifier: BSD-3-Clause */
#include "hook.h"

#include <rte_debug.h>

/* Called only where dp_hook_on holds, which only the registered module's build sets. */
dp_hook_fn dp_hook_fn_registered;

void dp_hook_register(dp_hook_fn fn)
{
	/* A constructor cannot fail: two modules hooking the same points is a build error. */
	RTE_VERIFY(dp_hook_fn_registered == NULL);
	dp_hook_fn_registered = fn;
}
