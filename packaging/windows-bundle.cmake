# The Windows bundle (`./socklab package`): dist/socklab-<version>-windows-x64.zip, one folder holding
#   socklab.exe, socklab-viz.exe, socklab-server.exe   the programs, side by side (they find each other there)
#   lessons/                                          the lessons the CLI and the visualizer read
#   models/, common/                                  the sources the lessons and the source panel quote
#   README-windows.txt                                how to start
# Built by CPack's own ZIP writer, so making it needs nothing beyond CMake.
install(TARGETS socklab socklab-server RUNTIME DESTINATION .)
if(TARGET socklab-viz)
  install(TARGETS socklab-viz RUNTIME DESTINATION .)
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/lessons/ DESTINATION lessons)
foreach(folder models common)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${folder}/ DESTINATION ${folder}
          FILES_MATCHING PATTERN "*.cpp" PATTERN "*.h")
endforeach()
install(FILES ${CMAKE_CURRENT_LIST_DIR}/README-windows.txt DESTINATION .)

set(CPACK_GENERATOR ZIP)
set(CPACK_PACKAGE_NAME socklab)
set(CPACK_PACKAGE_FILE_NAME "socklab-${PROJECT_VERSION}-windows-x64")
set(CPACK_INCLUDE_TOPLEVEL_DIRECTORY ON)  # unpacks into one folder of that name
set(CPACK_STRIP_FILES ON)                 # the programs without their debug information: a third of the size
include(CPack)
