/* SPDX-License-Identifier: MPL-2.0 */
/**
 * @file nomad/nomad.h
 * @brief The whole libnomad API: include this one header.
 *
 * Threads: see each subsystem's header.
 */
#ifndef NOMAD_NOMAD_H
#define NOMAD_NOMAD_H

#include <nomad/core.h>
#include <nomad/structs.h>
#include <nomad/state.h>
#include <nomad/sched.h>

#endif /* NOMAD_NOMAD_H */
