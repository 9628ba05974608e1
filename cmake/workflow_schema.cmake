# GitHub's workflow schema (workflow-v1.0.min.json of the npm package @actions/workflow-parser, pinned in
# package.json and installed into build/npm by tools/bootstrap), compiled into TARGET as the generated
# header redundancy/github/workflow_schema_json.hpp, so that the daemon validates workflows without Node.
# Bumping the pinned package is how the validator follows GitHub. Included by CMakeLists.txt and by
# cmake/fuzz.cmake (whose build-fuzz/ has no npm folder of its own, hence the fallback to build/npm).
function(redundancy_embed_workflow_schema target)
  set(package node_modules/@actions/workflow-parser/dist/workflow-v1.0.min.json)
  if(NOT REDUNDANCY_NPM_DIR)
    if(EXISTS ${CMAKE_BINARY_DIR}/npm/${package})
      set(REDUNDANCY_NPM_DIR ${CMAKE_BINARY_DIR}/npm)
    else()
      set(REDUNDANCY_NPM_DIR ${CMAKE_SOURCE_DIR}/build/npm)
    endif()
  endif()
  set(schema ${REDUNDANCY_NPM_DIR}/${package})
  if(NOT EXISTS ${schema})
    message(FATAL_ERROR "GitHub's workflow schema is missing: ${schema} does not exist. It comes from the npm "
                        "package @actions/workflow-parser pinned in package.json: run tools/bootstrap (or "
                        "`npm ci` in ${REDUNDANCY_NPM_DIR} after copying package.json and package-lock.json "
                        "there), or point -DREDUNDANCY_NPM_DIR=... at a folder where it is installed.")
  endif()
  set(header ${CMAKE_BINARY_DIR}/generated/redundancy/github/workflow_schema_json.hpp)
  add_custom_command(
    OUTPUT ${header}
    COMMAND ${CMAKE_COMMAND} -DOUTPUT=${header} -DNAMESPACE=redundancy::github -DSUFFIX=json "-DSCRIPTS=${schema}"
            -P ${CMAKE_SOURCE_DIR}/cmake/embed_js.cmake
    DEPENDS ${schema} ${CMAKE_SOURCE_DIR}/cmake/embed_js.cmake
    COMMENT "Embedding GitHub's workflow schema into redundancy/github/workflow_schema_json.hpp"
    VERBATIM)
  target_sources(${target} PRIVATE ${header})
  target_include_directories(${target} PRIVATE ${CMAKE_BINARY_DIR}/generated)
endfunction()
