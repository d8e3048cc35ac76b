// The model the conformance suite is testing in this run (chosen with --model on the command line).
#pragma once

#include <string>

#include "models/model.h"

const socklab::models::ModelInfo& model_under_test();

// What a model says about itself that a test must respect: whether one client's blocking /work stalls every
// other client (true of the single-threaded models).
bool model_under_test_stalls_everyone_on_work();

// Whether this process may open `needed` descriptors at once (Linux: RLIMIT_NOFILE, raised to its hard limit by
// main; Windows has no such limit). When not, `why_not` says what to do about it.
bool enough_open_files(unsigned long needed, std::string& why_not);
