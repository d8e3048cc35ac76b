# Dependencies come from the platform's package manager (DESIGN.md §1): Debian packages or a vcpkg manifest.
# Nothing is vendored and nothing is downloaded at build time.

# Catch2: v2 (Debian 12's catch2 2.13, header catch2/catch.hpp) or v3 (vcpkg); tests/catch.hpp hides which.
if(SOCKLAB_TESTS)
  if(CMAKE_CROSSCOMPILING AND WIN32)
    # Cross-compiling with MinGW: Catch2 v2 is header-only, so the host's installed header serves both sides.
    # Only the catch2/ folder is exposed (through a link in the build tree), never the host's /usr/include.
    find_path(SOCKLAB_HOST_CATCH2 catch2/catch.hpp PATHS /usr/include /usr/local/include NO_DEFAULT_PATH
              NO_CMAKE_FIND_ROOT_PATH)
    if(NOT SOCKLAB_HOST_CATCH2)
      message(FATAL_ERROR "Catch2 not found: install it (Debian: apt-get install catch2)")
    endif()
    set(SOCKLAB_CATCH2_FORWARD ${CMAKE_BINARY_DIR}/host-catch2)
    file(MAKE_DIRECTORY ${SOCKLAB_CATCH2_FORWARD})
    if(NOT EXISTS ${SOCKLAB_CATCH2_FORWARD}/catch2)
      file(CREATE_LINK ${SOCKLAB_HOST_CATCH2}/catch2 ${SOCKLAB_CATCH2_FORWARD}/catch2 SYMBOLIC)
    endif()
    add_library(socklab_catch2 INTERFACE)
    target_include_directories(socklab_catch2 SYSTEM INTERFACE ${SOCKLAB_CATCH2_FORWARD})
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
