"""Real-time scheduling for the threads that keep time: the player's, and the drummer's, since the drummer holds
Python's interpreter lock while it generates, and an ordinary thread preempted while holding it would keep the
player waiting (a priority inversion: notes tens of milliseconds late on a busy machine, measured).

Asked with SCHED_FIFO where the user may (root, or a real-time limit as audio users are given for JACK); Linux
keeps 5% of the processor for ordinary work whatever real-time threads do. Children of the process start
ordinary."""

import os

#: The player's priority, and the drummer's below it (JACK's own threads run at 10 and up by default).
PLAYER, DRUMMER = 5, 4


def realtime(priority: int) -> bool:
    """Run the calling thread at real-time ``priority`` (threads it starts inherit it); whether it was granted."""
    policy = getattr(os, "SCHED_FIFO", None)
    if policy is None:
        return False
    try:
        os.sched_setscheduler(0, policy | getattr(os, "SCHED_RESET_ON_FORK", 0), os.sched_param(priority))
    except OSError:
        return False
    return True
