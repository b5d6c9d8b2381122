// Whole-file writes that never leave a partial file behind: readers (and a crashed or
// interrupted run) see either the old file or the complete new one.
#pragma once

#include <string>

namespace qrsim {

// Writes `contents` to `path.tmp.<pid>`, flushes it to disk and renames it over `path`.
// On any failure the temporary file is removed and std::runtime_error names the path.
void write_file_atomically(const std::string& path, const std::string& contents);

}  // namespace qrsim
