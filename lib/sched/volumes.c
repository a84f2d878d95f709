/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Host volumes (Nomad's HostVolumeChecker, scheduler/feasible/
 * feasible.go): a group's `volume` requests of type "host" name a host
 * volume (their Source) the node must have; a request to mount it
 * read-write also needs it not to be read-only there. With per_alloc,
 * the source is suffixed with the allocation's index, "data[2]".
 *
 * Checked per node, not per computed class: which host volumes a node
 * has is not part of its class, as in Nomad, where this checker is one
 * of the "available" ones run on every node.
 */
#include <string.h>

#include "sched/sched_int.h"

static bool is_host(const Nomad__VolumeRequestEntry *v)
{
	return v && v->value && v->value->type &&
	       !strcmp(v->value->type, "host");
}

bool nmd_volumes_wanted(const nomad_task_group *tg)
{
	for (size_t i = 0; i < tg->n_volumes; i++)
		if (is_host(tg->volumes[i]))
			return true;
	return false;
}

/* The node's host volume named `name` then `suffix`: *found, and its
 * configuration (NULL when the node sent none: read-write). */
static const Nomad__ClientHostVolumeConfig *
host_volume(const nomad_node *node, const char *name, const char *suffix,
	    bool *found)
{
	size_t nlen = strlen(name), slen = strlen(suffix);
	*found = false;
	for (size_t i = 0; node && i < node->n_hostvolumes; i++) {
		const Nomad__ClientHostVolumeEntry *h = node->hostvolumes[i];
		const char *k = h && h->key ? h->key : NULL;
		if (k && !strncmp(k, name, nlen) &&
		    !strncmp(k + nlen, suffix, slen) && k[nlen + slen] == '\0') {
			*found = true;
			return h->value;
		}
	}
	return NULL;
}

bool nmd_volumes_feasible(const nomad_task_group *tg, const nomad_node *node,
			  const char *alloc_name)
{
	/* AllocSuffix: from the last '[' of the name, "" without one. */
	const char *bracket = alloc_name ? strrchr(alloc_name, '[') : NULL;
	const char *suffix = bracket ? bracket : "";
	for (size_t i = 0; i < tg->n_volumes; i++) {
		const Nomad__VolumeRequest *req;
		const Nomad__ClientHostVolumeConfig *hv;
		bool found;
		if (!is_host(tg->volumes[i]))
			continue;
		req = tg->volumes[i]->value;
		hv = host_volume(node, req->source ? req->source : "",
				 req->peralloc ? suffix : "", &found);
		if (!found)
			return false;
		/* A read-only host volume takes read-only requests only. */
		if (hv && hv->readonly && !req->readonly)
			return false;
	}
	return true;
}
