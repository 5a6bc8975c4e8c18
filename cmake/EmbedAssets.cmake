# zicht_embed_assets(TARGET <target> NAME <Name> DIR <dir> FILES <relative paths...>)
# Generates, at build time, a C++ source with the bytes of FILES (relative to
# DIR) and adds it to TARGET. It defines, in namespace zicht::embedded:
#   size_t <Name>Count();
#   bool <Name>At(size_t i, const char** path, const char** content_type,
#                 const unsigned char** data, size_t* size);
# where path is "/" + the relative path. Editing an asset regenerates the source;
# no network and no tool beyond CMake itself (file(READ ... HEX)).
set(ZICHT_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/EmbedAssetsScript.cmake)

function(zicht_embed_assets)
  cmake_parse_arguments(E "" "TARGET;NAME;DIR" "FILES" ${ARGN})
  set(out ${CMAKE_CURRENT_BINARY_DIR}/embedded_${E_NAME}.cc)
  set(deps)
  foreach(f IN LISTS E_FILES)
    list(APPEND deps ${E_DIR}/${f})
  endforeach()
  string(REPLACE ";" "|" files_arg "${E_FILES}")
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DNAME=${E_NAME} -DDIR=${E_DIR} "-DFILES=${files_arg}" -DOUT=${out}
            -P ${ZICHT_EMBED_SCRIPT}
    DEPENDS ${deps} ${ZICHT_EMBED_SCRIPT}
    COMMENT "Embedding ${E_NAME} assets"
    VERBATIM)
  target_sources(${E_TARGET} PRIVATE ${out})
endfunction()
