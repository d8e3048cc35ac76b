// cli/locate.h — where socklab finds what it did not build into itself: the tree with lessons/ and the model
// sources, and the visualizer program.
#pragma once

#include <string>

namespace socklab::cli {

// The tree the CLI reads lessons/ and the model sources from: $SOCKLAB_ROOT, else the nearest folder above the
// program that has lessons/ (the checkout, or the unpacked Windows zip), else the current folder.
std::string repository_root();

// socklab-viz: socklab-viz.exe beside socklab.exe on Windows, build/linux/visualizer/socklab-viz in the checkout
// on Linux. The path, whether or not it is built.
std::string visualizer_program();

}  // namespace socklab::cli
