// Header-only target: the declarations live in include/CSyscall.h.
#include "CSyscall.h"
