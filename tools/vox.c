#include "vox.h"
#include <stdio.h>
int main(void) { printf("vox %s\n", VOX_VERSION); return 0; }
