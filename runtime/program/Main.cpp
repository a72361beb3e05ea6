//===- Main.cpp - main() of every program nnc compiles ---------------------===//
#include "runtime/program/Program.h"

int main(int argc, char **argv) { return nnrt::runProgram(argc, argv); }
