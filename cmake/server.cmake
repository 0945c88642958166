# voxd: the speech server (src/server, tools/voxd.c). Included from the top CMakeLists.
#
# Script mode (cmake -DIN=.. -DOUT=.. -DSYM=.. -P server.cmake) embeds a web page into a C
# source file; the build below uses it for web/index.html.
if(CMAKE_SCRIPT_MODE_FILE)
  file(READ "${IN}" hex HEX)
  string(LENGTH "${hex}" n)
  math(EXPR n "${n} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," arr "${hex}")
  file(WRITE "${OUT}" "/* generated from ${IN} */\n#include <stddef.h>\n"
       "const char ${SYM}[] = {${arr}0};\nconst size_t ${SYM}_len = ${n};\n")
  return()
endif()

pkg_check_modules(NGHTTP2 REQUIRED libnghttp2)
pkg_check_modules(LIBUV REQUIRED libuv)
pkg_check_modules(OPENSSL REQUIRED openssl)

set(VOXSRV_WEB_C ${CMAKE_BINARY_DIR}/generated/web_index.c)
add_custom_command(
  OUTPUT ${VOXSRV_WEB_C}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/generated
  COMMAND ${CMAKE_COMMAND} -DIN=${CMAKE_SOURCE_DIR}/web/index.html -DOUT=${VOXSRV_WEB_C}
          -DSYM=vx_web_index_html -P ${CMAKE_SOURCE_DIR}/cmake/server.cmake
  DEPENDS ${CMAKE_SOURCE_DIR}/web/index.html ${CMAKE_SOURCE_DIR}/cmake/server.cmake
  COMMENT "Embedding web/index.html")

add_library(voxsrv STATIC ${VOX_SERVER_SRC} ${VOXSRV_WEB_C})
target_include_directories(voxsrv PUBLIC src/server ${NGHTTP2_INCLUDE_DIRS} ${LIBUV_INCLUDE_DIRS}
                           ${OPENSSL_INCLUDE_DIRS})
target_link_libraries(voxsrv PUBLIC voxcore ${NGHTTP2_LINK_LIBRARIES} ${LIBUV_LINK_LIBRARIES}
                      ${OPENSSL_LINK_LIBRARIES})

add_executable(voxd tools/voxd.c)
target_link_libraries(voxd voxsrv)
set_target_properties(voxd PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
