# The visualizer's libraries for the MinGW build: Dear ImGui, GLFW and md4c built from Debian's source packages, stb
# from the host's headers. Included by visualizer/CMakeLists.txt when cross-compiling with MinGW.
#
# Why Debian's sources: MinGW has no packaged ImGui or GLFW, and these are the very versions the Linux build
# links (libimgui-dev 1.86, libglfw3-dev 3.3.8), so both builds run the same library code. They are fetched once
# into the build tree at configure time (cmake/fetch-debian-sources; apt checks their checksums), never
# committed, and compiled here as static libraries, so socklab-viz.exe stays one self-contained file.
#
# Defines: socklab_imgui (core + the GLFW and OpenGL 3 backends), socklab_glfw (the Win32 platform code),
# socklab_md4c (the Markdown parser), socklab_stb (the host's stb headers; the implementation is compiled in
# visualizer/stb_implementation.cpp).

set(SOCKLAB_IMGUI_DEBIAN_VERSION 1.86+ds-1)
set(SOCKLAB_GLFW_DEBIAN_VERSION 3.3.8-1)
set(SOCKLAB_MD4C_DEBIAN_VERSION 0.4.8-1)
set(SOCKLAB_DEBIAN_SOURCES ${CMAKE_BINARY_DIR}/debian-sources)
# dpkg-source unpacks into <package>-<upstream version>.
set(SOCKLAB_IMGUI_SOURCE ${SOCKLAB_DEBIAN_SOURCES}/imgui-1.86+ds)
set(SOCKLAB_GLFW_SOURCE ${SOCKLAB_DEBIAN_SOURCES}/glfw3-3.3.8)
set(SOCKLAB_MD4C_SOURCE ${SOCKLAB_DEBIAN_SOURCES}/md4c-release-0.4.8)  # upstream names its tarball's folder so

if(NOT EXISTS ${SOCKLAB_IMGUI_SOURCE}/imgui.cpp OR NOT EXISTS ${SOCKLAB_GLFW_SOURCE}/src/win32_init.c OR
   NOT EXISTS ${SOCKLAB_MD4C_SOURCE}/src/md4c.c)
  message(STATUS "Fetching Debian's imgui ${SOCKLAB_IMGUI_DEBIAN_VERSION}, glfw3 ${SOCKLAB_GLFW_DEBIAN_VERSION} and "
                 "md4c ${SOCKLAB_MD4C_DEBIAN_VERSION} sources into ${SOCKLAB_DEBIAN_SOURCES}")
  # A half-finished earlier fetch would confuse dpkg-source (it refuses to unpack over a folder): start clean.
  file(REMOVE_RECURSE ${SOCKLAB_DEBIAN_SOURCES})
  file(MAKE_DIRECTORY ${SOCKLAB_DEBIAN_SOURCES})
  execute_process(
    COMMAND ${PROJECT_SOURCE_DIR}/cmake/fetch-debian-sources ${SOCKLAB_DEBIAN_SOURCES}
            imgui=${SOCKLAB_IMGUI_DEBIAN_VERSION} glfw3=${SOCKLAB_GLFW_DEBIAN_VERSION}
    RESULT_VARIABLE fetch_result
    OUTPUT_VARIABLE fetch_output
    ERROR_VARIABLE fetch_output)
  # md4c: the upstream tarball alone (--tar-only), unpacked here. Debian changes only its packaging, and the
  # archive this was first built against lacked md4c's debian.tar.xz (404), which fails a whole `apt-get source`.
  if(fetch_result EQUAL 0)
    execute_process(
      COMMAND ${PROJECT_SOURCE_DIR}/cmake/fetch-debian-sources ${SOCKLAB_DEBIAN_SOURCES} --tar-only
              md4c=${SOCKLAB_MD4C_DEBIAN_VERSION}
      RESULT_VARIABLE fetch_result
      OUTPUT_VARIABLE md4c_output
      ERROR_VARIABLE md4c_output)
    string(APPEND fetch_output "${md4c_output}")
  endif()
  file(GLOB SOCKLAB_MD4C_TARBALL ${SOCKLAB_DEBIAN_SOURCES}/md4c_*.orig.tar.*)
  if(SOCKLAB_MD4C_TARBALL)
    file(ARCHIVE_EXTRACT INPUT ${SOCKLAB_MD4C_TARBALL} DESTINATION ${SOCKLAB_DEBIAN_SOURCES})
  endif()
  if(NOT fetch_result EQUAL 0 OR NOT EXISTS ${SOCKLAB_IMGUI_SOURCE}/imgui.cpp OR
     NOT EXISTS ${SOCKLAB_GLFW_SOURCE}/src/win32_init.c OR NOT EXISTS ${SOCKLAB_MD4C_SOURCE}/src/md4c.c)
    message(FATAL_ERROR
      "Could not fetch the sources of Dear ImGui, GLFW and md4c that the Windows visualizer is built from.\n"
      "cmake/fetch-debian-sources needs apt-get and dpkg-source (Debian: apt-get install dpkg-dev) and a way to "
      "http://deb.debian.org (or set SOCKLAB_DEBIAN_MIRROR to a mirror), and Debian bookworm must still carry "
      "imgui ${SOCKLAB_IMGUI_DEBIAN_VERSION}, glfw3 ${SOCKLAB_GLFW_DEBIAN_VERSION} and md4c ${SOCKLAB_MD4C_DEBIAN_VERSION}.\n"
      "To build the Windows programs without the visualizer: -DSOCKLAB_VISUALIZER=OFF.\n"
      "What the fetch said:\n${fetch_output}")
  endif()
endif()

# ---- GLFW: its Win32 sources, as its own CMakeLists would pick them, compiled directly -----------------------
enable_language(C)
set(SOCKLAB_GLFW_SOURCES context.c init.c input.c monitor.c vulkan.c window.c
    win32_init.c win32_joystick.c win32_monitor.c win32_time.c win32_thread.c win32_window.c
    wgl_context.c egl_context.c osmesa_context.c)
list(TRANSFORM SOCKLAB_GLFW_SOURCES PREPEND ${SOCKLAB_GLFW_SOURCE}/src/)
add_library(socklab_glfw STATIC ${SOCKLAB_GLFW_SOURCES})
# _GLFW_WIN32 picks the platform in place of the glfw_config.h its own build would generate; UNICODE because its
# Win32 code calls the wide-character API, as GLFW's own build defines it.
target_compile_definitions(socklab_glfw PRIVATE _GLFW_WIN32 UNICODE _UNICODE)
target_include_directories(socklab_glfw SYSTEM PUBLIC ${SOCKLAB_GLFW_SOURCE}/include)
target_compile_options(socklab_glfw PRIVATE -w)  # not our code: its warnings are not ours to fix
target_link_libraries(socklab_glfw PUBLIC opengl32 gdi32)

# ---- Dear ImGui: the core and the two backends the visualizer uses ------------------------------------------
# The OpenGL 3 backend brings its own small GL loader (backends/imgui_impl_opengl3_loader.h), so no GLEW or glad.
# Its bundled stb_truetype and stb_rect_pack are used as they are (Debian's own build swaps in libstb's).
# imgui_demo.cpp is left out: the visualizer never opens ImGui's demo window, and it is the slowest file to build.
add_library(socklab_imgui STATIC
  ${SOCKLAB_IMGUI_SOURCE}/imgui.cpp
  ${SOCKLAB_IMGUI_SOURCE}/imgui_draw.cpp
  ${SOCKLAB_IMGUI_SOURCE}/imgui_tables.cpp
  ${SOCKLAB_IMGUI_SOURCE}/imgui_widgets.cpp
  ${SOCKLAB_IMGUI_SOURCE}/backends/imgui_impl_glfw.cpp
  ${SOCKLAB_IMGUI_SOURCE}/backends/imgui_impl_opengl3.cpp)
# Both folders on the path, as Debian's imgui.pc and vcpkg's imgui give them: "imgui.h", "imgui_impl_glfw.h".
target_include_directories(socklab_imgui SYSTEM PUBLIC ${SOCKLAB_IMGUI_SOURCE} ${SOCKLAB_IMGUI_SOURCE}/backends)
target_compile_options(socklab_imgui PRIVATE -w)
target_link_libraries(socklab_imgui PUBLIC socklab_glfw)

# ---- md4c: the Markdown parser of the lesson panel, one C file -----------------------------------------------
add_library(socklab_md4c STATIC ${SOCKLAB_MD4C_SOURCE}/src/md4c.c)
target_include_directories(socklab_md4c SYSTEM PUBLIC ${SOCKLAB_MD4C_SOURCE}/src)
target_compile_options(socklab_md4c PRIVATE -w)

# ---- stb: header-only, so the host's headers serve the Windows side too --------------------------------------
# As for Catch2 (cmake/dependencies.cmake); spelled <stb_image_write.h>, as Debian's stb.pc gives it.
socklab_host_headers(socklab_stb stb stb_image_write.h libstb-dev "<stb_image_write.h>")
