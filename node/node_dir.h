// Making a node appear in a data directory all at once: `tuphap init` and
// `tuphap restore` build the node in DIR/.init and publish it whole.
#pragma once

#include <functional>
#include <string>

#include "base/status.h"

namespace tuphap::node {

// The config file a data directory may hold (read by the CLI when present).
std::string ConfigPath(const std::string& dir);

// Creates `dir` (and its missing parents, made durable), takes a lock on it
// so one init or restore at a time works there, refuses a folder that holds
// a node (AlreadyExists) or what a removed store left behind (its WAL or
// journal), keeps aside a key file without a store, then calls `build`
// with an empty staging folder (DIR/.init). `build` writes the key file,
// the store and, optionally, the config file there. They are published
// in that order — the config, the keys, then the store, whose name is what
// says a node lives here — each fsynced and renamed, so a crash or power cut
// part way leaves no half-made node and the command can simply run again.
Status PublishNodeDir(const std::string& dir,
                      const std::function<Status(const std::string& stage)>& build);

}  // namespace tuphap::node
