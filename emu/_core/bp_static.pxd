"""Static direction predictor: every conditional branch is predicted not taken.

It has no state and learns nothing (so there is no struct and no update); it is the
baseline the learning predictors are measured against. Backward-taken/forward-not-taken
is deliberately not used: this is the plain fall-through guess.
"""


cdef inline bint static_predict() noexcept nogil:
    return False
