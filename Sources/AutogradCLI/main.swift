import AutogradTool

AutogradCommand.main()
