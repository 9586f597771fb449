/* replay.h - the `madvisor replay` subcommand (replay.c). */
#ifndef MADVISOR_REPLAY_H
#define MADVISOR_REPLAY_H

/* argv[0] is "replay". Returns the exit status. */
int mv_replay_main(int argc, char **argv);

#endif
