// visualizer/stb_implementation.cpp — the code of stb's PNG writer, for builds where stb is header-only.
//
// stb ships each library as one header: included plainly it declares the functions, and exactly one file of a
// program must include it with STB_IMAGE_WRITE_IMPLEMENTATION defined to compile their bodies. On Linux
// Debian's libstb already holds them (this file is not built there); the MinGW and MSVC builds compile them here.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
