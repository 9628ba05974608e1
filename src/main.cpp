// Entry point: hands the command line to the CLI.
#include "redundancy/cli/cli.hpp"

int main(int argc, char** argv) { return redundancy::cli::main(argc, argv); }
