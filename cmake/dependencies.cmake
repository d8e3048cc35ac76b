# Dependencies come from the platform's package manager (docs/design.md §1): Debian packages or a vcpkg manifest.
# Nothing is vendored and nothing is downloaded at build time.

# For the MinGW build: a header-only library the host has installed serves the Windows side too, as the interface
# target `target`. Only its folder is exposed, through a link in the build tree, never the host's whole
# /usr/include (its C library headers are not MinGW's). `spelling` says how the code includes it: "<folder/header>"
# puts the link's parent on the path, "<header>" the folder itself.
function(socklab_host_headers target folder header debian_package spelling)
  find_path(SOCKLAB_HOST_${folder} ${folder}/${header} PATHS /usr/include /usr/local/include NO_DEFAULT_PATH
            NO_CMAKE_FIND_ROOT_PATH)
  if(NOT SOCKLAB_HOST_${folder})
    message(FATAL_ERROR "${folder}/${header} not found: install it (Debian: apt-get install ${debian_package})")
  endif()
  set(forward ${CMAKE_BINARY_DIR}/host-${folder})
  file(MAKE_DIRECTORY ${forward})
  if(NOT EXISTS ${forward}/${folder})
    file(CREATE_LINK ${SOCKLAB_HOST_${folder}}/${folder} ${forward}/${folder} SYMBOLIC)
  endif()
  add_library(${target} INTERFACE)
  if(spelling STREQUAL "<${header}>")
    target_include_directories(${target} SYSTEM INTERFACE ${forward}/${folder})
  else()
    target_include_directories(${target} SYSTEM INTERFACE ${forward})
  endif()
endfunction()

# Catch2: v2 (Debian 12's catch2 2.13, header catch2/catch.hpp) or v3 (vcpkg); tests/catch.hpp hides which.
if(SOCKLAB_TESTS)
  if(CMAKE_CROSSCOMPILING AND WIN32)
    # Cross-compiling with MinGW: Catch2 v2 is header-only, so the host's installed header serves both sides.
    socklab_host_headers(socklab_catch2 catch2 catch.hpp catch2 "<catch2/catch.hpp>")
  else()
    find_package(Catch2 REQUIRED)
    list(APPEND CMAKE_MODULE_PATH ${Catch2_DIR})  # Catch.cmake: catch_discover_tests
    add_library(socklab_catch2 INTERFACE)
    if(Catch2_VERSION VERSION_GREATER_EQUAL 3)
      target_link_libraries(socklab_catch2 INTERFACE Catch2::Catch2)
      target_compile_definitions(socklab_catch2 INTERFACE SOCKLAB_CATCH2_V3)
    else()
      target_link_libraries(socklab_catch2 INTERFACE Catch2::Catch2)
    endif()
  endif()
endif()

find_package(Threads REQUIRED)
