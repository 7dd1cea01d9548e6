// WriteFileAtomically: how wiresim and wiresim-calibrate write an output file so that nobody ever reads half of
// one, and a pipe or a device given as the output is written into, never replaced.
//
//   WIRESIM_RETURN_IF_ERROR(WriteFileAtomically("out/summary.json", text));   // temporary file, then rename
//   WIRESIM_RETURN_IF_ERROR(WriteFileAtomically("/dev/stdout", text));        // written in place
#pragma once

#include <string>
#include <string_view>

#include "sim/core/status.h"

namespace wiresim {

// Writes `contents` to `path`. A regular file (or a new one) is written to a temporary file in the same directory,
// ".NAME.wiresim-tmp.PID", and renamed into place, so readers never see half a file; temporaries left by a run that
// was killed (their process is gone) are removed on the way. A named pipe, a character device or a socket (/dev/null,
// /dev/stdout, a FIFO) is opened and written directly, never replaced. Errors name the target and the system's
// reason; a directory that cannot be created or written is the user's input (kInvalidArgument: exit 2).
Status WriteFileAtomically(const std::string& path, std::string_view contents);

// What WriteFileAtomically (or, with `directory`, a directory of outputs) would refuse at the end of a long run,
// checked before it, touching nothing: an empty path, a directory where a file goes (or a file where a directory
// goes), a path under a file, or a nearest existing directory that cannot be written in. A path that does not
// exist yet passes when it could be created.
Status CheckOutputPath(const std::string& path, bool directory = false);

}  // namespace wiresim
